/*
 * demo.c: the demo data of "yiqid --demo".
 *
 * On a database without instruments, demo_load() creates, in one
 * transaction, the three parks of SPEC §2, institutes of both districts,
 * instruments with real makers, models and rules, a user of every role,
 * a few blackouts and six weeks of bookings around today that keep every
 * rule (granularity, opening hours, buffers, no overlap).  The data lives
 * in the static tables below; the code only walks them.  Instruments go
 * through instrument_apply(), so the demo obeys the same checks as the
 * API.  On every start, fresh or not, each demo user gets a new API token,
 * printed to stdout as "ROLE LOGIN TOKEN".
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "yiqid.h"

#define DEMO_DAYS	21	/* bookings this many days back and ahead */
#define DEMO_BLACKOUTS	8

struct demo_site {
	const char	*code;
	const char	*name;
	const char	*district;
};

struct demo_institute {
	const char	*code;
	const char	*name;
	const char	*district;
	int		 private;
};

struct demo_instrument {
	const char	*code;
	const char	*name;
	const char	*category;
	const char	*manufacturer;
	const char	*model;
	const char	*site;
	const char	*room;
	const char	*owner;
	const char	*status;
	const char	*description;
	int		 granularity;
	int		 min_duration;
	int		 max_duration;
	int		 advance_days;
	int		 buffer;
	const char	*hours;
	int		 approval;
	int		 qualification;
	int		 rate_internal;	/* fen per hour */
	int		 rate_external;
};

struct demo_user {
	const char	*login;
	const char	*name;
	const char	*institute;
	const char	*role;
	const char	*manages[6];	/* instrument codes */
	const char	*sites[3];	/* site codes (park managers) */
};

struct demo_purpose {
	const char	*purpose;
	const char	*project;
};

struct demo_blackout {
	const char	*instrument;	/* or NULL for a whole site */
	const char	*site;
	int		 day;		/* from today */
	int		 from;		/* local minutes */
	int		 to;
	const char	*reason;
};

/* A blackout as the booking generator avoids it. */
struct demo_span {
	int64_t		instrument_id;
	int64_t		site_id;
	struct span	span;
};

#define H_WEEK		"Mon-Fri 08:00-20:00; Sat 09:00-13:00"
#define H_OFFICE	"Mon-Fri 09:00-17:00"
#define H_ALWAYS	"24/7"
#define H_LONG		"Mon-Sat 08:00-22:00"
#define H_SPLIT		"Mon-Fri 08:30-12:00,13:30-17:30"
#define H_DAILY		"Mon-Sun 08:00-22:00"

/*
 * The README's first command books this instrument tomorrow afternoon, so
 * its future afternoons (from 12:00) get no demo bookings.
 */
#define DEMO_SHOWCASE	"HC-ICPMS-01"
#define DEMO_NOON	(12 * 60)

static const struct demo_site demo_sites[] = {
	{ "HC-HTZ", "Hechuan Hi-tech Industrial Development Zone", "hechuan" },
	{ "WS-JZ", "Wusheng Jiezi Industrial Park", "wusheng" },
	{ "WS-APP", "Wusheng Agricultural Byproducts Processing Park",
	    "wusheng" },
};

static const struct demo_institute demo_institutes[] = {
	{ "OPERATOR", "Platform operator", "hechuan", 0 },
	{ "CQU-ATC", "Chongqing University Analytical and Testing Centre, "
	    "Hechuan Laboratory", "hechuan", 0 },
	{ "CQNU-MAT", "Chongqing Normal University Advanced Materials Lab",
	    "hechuan", 0 },
	{ "HC-FDTC", "Hechuan Food and Drug Testing Centre", "hechuan", 0 },
	{ "CQ-MET-HC", "Chongqing Institute of Metrology, Hechuan Branch",
	    "hechuan", 0 },
	{ "HC-KYPH", "Chongqing Kangyuan Pharmaceutical Co., Ltd.", "hechuan",
	    1 },
	{ "WS-QTC", "Wusheng County Product Quality Inspection Centre",
	    "wusheng", 0 },
	{ "GA-EMS", "Guang'an Environmental Monitoring Station, Wusheng Office",
	    "wusheng", 0 },
	{ "SAU-WS", "Sichuan Agricultural University Wusheng Field Station",
	    "wusheng", 0 },
	{ "WS-JLAG", "Sichuan Jiali Agricultural Development Co., Ltd.",
	    "wusheng", 1 },
};

static const struct demo_instrument demo_instruments[] = {
	{ "HC-ICPMS-01", "ICP-MS", "mass-spectrometry", "Agilent", "7900",
	    "HC-HTZ", "A-102", "CQU-ATC", "active", "Inductively coupled "
	    "plasma mass spectrometer for trace elements; ORS4 collision cell.",
	    30, 60, 480, 60, 30, H_DAILY, 0, 0, 30000, 45000 },
	{ "HC-SEM-01", "Field-emission SEM", "electron-microscopy", "Zeiss",
	    "Sigma 300", "HC-HTZ", "A-015", "CQU-ATC", "active", "FE-SEM with "
	    "Oxford EDS; conductive samples or sputter coating on request.",
	    30, 30, 240, 90, 15, H_WEEK, 0, 1, 40000, 60000 },
	{ "HC-TEM-01", "Transmission electron microscope",
	    "electron-microscopy", "JEOL", "JEM-2100F", "HC-HTZ", "A-010",
	    "CQU-ATC", "active", "200 kV field-emission TEM, STEM and EDS.",
	    60, 120, 480, 90, 30, H_OFFICE, 1, 1, 80000, 120000 },
	{ "HC-NMR-600", "600 MHz NMR spectrometer", "nmr", "Bruker",
	    "Avance NEO 600", "HC-HTZ", "B-001", "CQNU-MAT", "active",
	    "Cryoprobe, autosampler; overnight runs welcome.",
	    15, 15, 720, 30, 0, H_ALWAYS, 0, 1, 25000, 40000 },
	{ "HC-XRD-01", "X-ray diffractometer", "xrd", "Rigaku", "SmartLab",
	    "HC-HTZ", "B-112", "CQNU-MAT", "active", "9 kW rotating anode, "
	    "thin-film and powder geometry.",
	    30, 30, 480, 90, 15, H_WEEK, 0, 0, 15000, 22000 },
	{ "HC-LCMS-01", "LC-MS/MS triple quadrupole", "mass-spectrometry",
	    "Sciex", "Triple Quad 6500+", "HC-HTZ", "C-204", "HC-KYPH",
	    "active", "UHPLC front end; bring your own columns.",
	    60, 60, 720, 30, 30, H_ALWAYS, 1, 0, 35000, 55000 },
	{ "HC-GCMS-01", "GC-MS", "mass-spectrometry", "Shimadzu",
	    "GCMS-QP2020 NX", "HC-HTZ", "C-206", "HC-FDTC", "active",
	    "Headspace and liquid autosampler.",
	    30, 60, 480, 60, 15, H_WEEK, 0, 0, 20000, 30000 },
	{ "HC-CONF-01", "Confocal microscope", "optical-microscopy", "Leica",
	    "STELLARIS 5", "HC-HTZ", "B-210", "CQNU-MAT", "active",
	    "Five laser lines, incubation chamber for live cells.",
	    30, 30, 240, 30, 0, H_LONG, 0, 1, 18000, 26000 },
	{ "HC-FCM-01", "Flow cytometer", "flow-cytometry", "BD",
	    "FACSCanto II", "HC-HTZ", "C-110", "HC-KYPH", "active",
	    "3 lasers, 8 colours.",
	    15, 30, 180, 30, 15, H_OFFICE, 0, 0, 12000, 18000 },
	{ "HC-ICPOES-01", "ICP-OES", "atomic-spectroscopy", "Agilent", "5110",
	    "HC-HTZ", "C-208", "HC-FDTC", "active", "Synchronous vertical dual "
	    "view.", 30, 30, 480, 60, 15, H_WEEK, 0, 0, 15000, 22000 },
	{ "HC-FTIR-01", "FTIR spectrometer", "vibrational-spectroscopy",
	    "Thermo Fisher", "Nicolet iS50", "HC-HTZ", "B-114", "CQNU-MAT",
	    "active", "ATR, transmission and diffuse reflectance.",
	    30, 30, 240, 90, 0, H_SPLIT, 0, 0, 6000, 9000 },
	{ "HC-XPS-01", "X-ray photoelectron spectrometer", "surface-analysis",
	    "Thermo Fisher", "ESCALAB Xi+", "HC-HTZ", "A-020", "CQU-ATC",
	    "maintenance", "Monochromated Al Ka; argon cluster depth "
	    "profiling.",
	    60, 60, 480, 90, 30, H_OFFICE, 1, 1, 60000, 90000 },
	{ "HC-AFM-01", "Atomic force microscope", "scanning-probe", "Bruker",
	    "Dimension Icon", "HC-HTZ", "B-116", "CQNU-MAT", "active",
	    "PeakForce tapping, KPFM.",
	    30, 60, 240, 60, 0, H_WEEK, 0, 1, 20000, 30000 },
	{ "HC-RAMAN-01", "Confocal Raman microscope",
	    "vibrational-spectroscopy", "Horiba", "LabRAM HR Evolution",
	    "HC-HTZ", "A-104", "CQU-ATC", "active", "532/633/785 nm lasers.",
	    30, 30, 240, 90, 0, H_WEEK, 0, 0, 15000, 22000 },
	{ "HC-DSC-01", "Differential scanning calorimeter", "thermal-analysis",
	    "TA Instruments", "DSC 2500", "HC-HTZ", "D-003", "CQ-MET-HC",
	    "active", "-90 to 550 C with RCS90 cooler.",
	    60, 60, 480, 90, 0, H_OFFICE, 0, 0, 8000, 12000 },
	{ "HC-TGA-01", "Thermogravimetric analyser", "thermal-analysis",
	    "Mettler Toledo", "TGA/DSC 3+", "HC-HTZ", "D-004", "CQ-MET-HC",
	    "active", "Up to 1100 C; evolved gas to FTIR.",
	    60, 60, 720, 90, 0, H_ALWAYS, 0, 0, 8000, 12000 },
	{ "HC-CMM-01", "Coordinate measuring machine", "metrology", "Zeiss",
	    "CONTURA G2", "HC-HTZ", "D-010", "CQ-MET-HC", "active",
	    "Scanning probe; temperature-controlled room.",
	    60, 60, 480, 60, 30, H_OFFICE, 1, 1, 25000, 35000 },
	{ "HC-HPLC-01", "HPLC", "chromatography", "Waters", "Alliance e2695",
	    "HC-HTZ", "C-212", "HC-KYPH", "active", "PDA and RI detectors.",
	    30, 60, 720, 30, 15, H_ALWAYS, 0, 0, 8000, 12000 },
	{ "HC-UVVIS-01", "UV-Vis spectrophotometer (old)", "spectrophotometry",
	    "Shimadzu", "UV-2550", "HC-HTZ", "B-118", "CQNU-MAT", "retired",
	    "Replaced by a newer unit; kept for the records.",
	    30, 30, 240, 90, 0, H_OFFICE, 0, 0, 3000, 5000 },
	{ "WS-ICPMS-01", "ICP-MS", "mass-spectrometry", "Thermo Fisher",
	    "iCAP RQ", "WS-JZ", "201", "WS-QTC", "active", "Heavy metals in "
	    "food and water, GB 5009.268.",
	    30, 60, 480, 60, 30, H_WEEK, 0, 1, 28000, 42000 },
	{ "WS-GCMS-01", "GC-MS/MS", "mass-spectrometry", "Agilent",
	    "8890/7000E", "WS-JZ", "203", "GA-EMS", "active",
	    "VOCs and semi-volatiles; thermal desorption unit.",
	    30, 60, 480, 60, 15, H_WEEK, 0, 0, 22000, 33000 },
	{ "WS-AAS-01", "Atomic absorption spectrometer", "atomic-spectroscopy",
	    "PerkinElmer", "PinAAcle 900T", "WS-JZ", "205", "GA-EMS", "active",
	    "Flame and graphite furnace.",
	    30, 30, 240, 60, 0, H_OFFICE, 0, 0, 8000, 12000 },
	{ "WS-IC-01", "Ion chromatograph", "chromatography", "Thermo Fisher",
	    "Dionex Integrion", "WS-JZ", "206", "GA-EMS", "active",
	    "Anions and cations in water.",
	    30, 60, 480, 60, 0, H_WEEK, 0, 0, 6000, 9000 },
	{ "WS-TOC-01", "TOC analyser", "elemental-analysis", "Shimadzu",
	    "TOC-L CPH", "WS-JZ", "207", "GA-EMS", "active", "",
	    30, 30, 240, 60, 0, H_OFFICE, 0, 0, 5000, 8000 },
	{ "WS-PSA-01", "Laser particle size analyser", "particle-analysis",
	    "Malvern Panalytical", "Mastersizer 3000", "WS-JZ", "110",
	    "WS-QTC", "active", "Wet and dry dispersion, 0.01-3500 um.",
	    15, 30, 180, 90, 0, H_WEEK, 0, 0, 6000, 9000 },
	{ "WS-UTM-01", "Universal testing machine", "mechanical-testing",
	    "Instron", "5982", "WS-JZ", "112", "WS-QTC", "active",
	    "100 kN, tensile, compression and flexure fixtures.",
	    30, 30, 480, 90, 15, H_WEEK, 0, 1, 10000, 15000 },
	{ "WS-XRF-01", "Wavelength-dispersive XRF", "xrf", "Bruker",
	    "S8 Tiger", "WS-JZ", "114", "WS-QTC", "active", "",
	    30, 30, 240, 60, 0, H_OFFICE, 0, 0, 12000, 18000 },
	{ "WS-AAA-01", "Amino acid analyser", "amino-acid-analysis", "Hitachi",
	    "LA8080", "WS-APP", "2-101", "SAU-WS", "active",
	    "Protein hydrolysates and free amino acids; feed and food.",
	    60, 120, 720, 60, 30, H_ALWAYS, 0, 0, 15000, 22000 },
	{ "WS-LCMS-01", "LC-MS/MS QTRAP", "mass-spectrometry", "Sciex",
	    "QTRAP 6500+", "WS-APP", "2-105", "WS-JLAG", "active",
	    "Mycotoxins and pesticide residues.",
	    60, 60, 480, 30, 30, H_WEEK, 1, 1, 40000, 60000 },
	{ "WS-HPLC-01", "HPLC", "chromatography", "Agilent",
	    "1260 Infinity II", "WS-APP", "2-107", "WS-JLAG", "active", "",
	    30, 60, 720, 30, 15, H_LONG, 0, 0, 8000, 12000 },
	{ "WS-KJEL-01", "Kjeldahl analyser", "elemental-analysis", "FOSS",
	    "Kjeltec 8400", "WS-APP", "2-110", "SAU-WS", "active",
	    "Crude protein, GB 5009.5.",
	    30, 30, 240, 60, 0, H_SPLIT, 0, 0, 4000, 6000 },
	{ "WS-NIR-01", "NIR grain analyser", "vibrational-spectroscopy",
	    "FOSS", "DA 7250", "WS-APP", "2-112", "SAU-WS", "active",
	    "Moisture, protein, fat and fibre in seconds.",
	    15, 15, 120, 30, 0, H_WEEK, 0, 0, 3000, 5000 },
	{ "WS-FDRY-01", "Freeze dryer", "sample-preparation", "Labconco",
	    "FreeZone 18L", "WS-APP", "2-120", "WS-JLAG", "active",
	    "Runs of 24-48 h; bring pre-frozen samples.",
	    60, 240, 2880, 30, 60, H_ALWAYS, 0, 0, 2000, 3000 },
	{ "WS-PCR-01", "Real-time PCR system", "molecular-biology", "Bio-Rad",
	    "CFX Opus 96", "WS-APP", "2-130", "SAU-WS", "active",
	    "GMO screening and pathogen detection.",
	    30, 60, 240, 30, 0, H_WEEK, 0, 1, 6000, 9000 },
	{ "WS-GC-01", "Gas chromatograph", "chromatography", "Agilent",
	    "8890 GC", "WS-APP", "2-108", "WS-QTC", "active",
	    "FPD/ECD for pesticide residues in vegetables.",
	    30, 60, 480, 60, 15, H_WEEK, 0, 0, 10000, 15000 },
};

static const struct demo_user demo_users[] = {
	{ "admin", "Administrator", "OPERATOR", "admin", { NULL }, { NULL } },
	{ "zhou.min", "Zhou Min", "CQ-MET-HC", "park_manager", { NULL },
	    { "HC-HTZ", NULL } },
	{ "chen.gang", "Chen Gang", "OPERATOR", "park_manager", { NULL },
	    { NULL } },
	{ "liu.yang", "Liu Yang", "CQU-ATC", "manager", { "HC-ICPMS-01",
	    "HC-SEM-01", "HC-TEM-01", "HC-XPS-01", "HC-RAMAN-01", NULL },
	    { NULL } },
	{ "he.ping", "He Ping", "SAU-WS", "manager", { "WS-AAA-01",
	    "WS-KJEL-01", "WS-NIR-01", "WS-PCR-01", NULL }, { NULL } },
	{ "wang.fang", "Wang Fang", "CQU-ATC", "member", { NULL }, { NULL } },
	{ "li.jun", "Li Jun", "HC-FDTC", "member", { NULL }, { NULL } },
	{ "zhang.wei", "Zhang Wei", "HC-KYPH", "member", { NULL }, { NULL } },
	{ "huang.li", "Huang Li", "WS-QTC", "member", { NULL }, { NULL } },
	{ "yang.xue", "Yang Xue", "WS-JLAG", "member", { NULL }, { NULL } },
	{ "sun.hao", "Sun Hao", "SAU-WS", "member", { NULL }, { NULL } },
	{ "xu.jing", "Xu Jing", "CQNU-MAT", "member", { NULL }, { NULL } },
};

static const struct demo_purpose demo_purposes[] = {
	{ "Trace metals in soil digests, batch of 40", "NSFC-42177012" },
	{ "Heavy metals in rice, GB 5009.268", "HC-FDTC-2026-031" },
	{ "Morphology of NCM cathode powders", "CSTC-2025-118" },
	{ "Lattice imaging of Pt/C catalyst", "NSFC-22279001" },
	{ "1H/13C of synthesis intermediates", "KY-RD-0412" },
	{ "Phase identification of calcined samples", "CQNU-MAT-2026-07" },
	{ "Impurity profile for batch release", "KY-QA-2026-118" },
	{ "Pesticide residue screening in citrus", "WS-QTC-2026-044" },
	{ "Fatty acids in rapeseed oil", "SAU-WS-OIL-03" },
	{ "Apoptosis panel on treated cell lines", "KY-BIO-0221" },
	{ "Live-cell imaging, time series", "CQNU-BIO-2026-02" },
	{ "Amino acids of fermented soybean meal", "JL-FEED-2026-09" },
	{ "Crude protein of feed samples", "SAU-WS-FEED-11" },
	{ "VOCs in industrial park air samples", "GA-EMS-2026-Q2" },
	{ "Method development", "" },
	{ "Training of new users", "" },
};

static const struct demo_blackout demo_blackouts[] = {
	{ "HC-ICPMS-01", NULL, 3, 8 * 60, 12 * 60,
	    "Quarterly cone and torch maintenance (Agilent service visit)" },
	{ "HC-TEM-01", NULL, -5, 9 * 60, 17 * 60,
	    "Annual alignment by the JEOL engineer" },
	{ "HC-XPS-01", NULL, 0, 0, 24 * 60,
	    "X-ray source replacement" },
	{ "WS-LCMS-01", NULL, 8, 8 * 60, 20 * 60,
	    "Ion source cleaning and mass calibration" },
	{ NULL, "WS-JZ", 10, 0, 24 * 60,
	    "Park power maintenance: substation inspection" },
};

static const char *const cancel_reasons[] = {
	"Samples not ready", "Project meeting moved", "Instrument swap with "
	"a colleague", "Sample shipment delayed"
};

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])

/* The generator's state: the same demo every time. */
struct demo {
	struct yiqid		*ctx;
	time_t			 now;
	uint32_t		 seed;
	int64_t			 admin;
	int64_t			 bookers[NITEMS(demo_users)];
	int64_t			 booker_inst[NITEMS(demo_users)];
	size_t			 nbookers;
	struct demo_span	 spans[NITEMS(demo_blackouts)];
	size_t			 nspans;
	int			 nbookings;
};

static uint32_t
demo_rand(struct demo *d)
{
	d->seed ^= d->seed << 13;
	d->seed ^= d->seed >> 17;
	d->seed ^= d->seed << 5;
	return (d->seed);
}

/* The UTC time of local minute min of the day `day` days from today. */
static time_t
demo_time(const char *zone, time_t now, int day, int min)
{
	struct tm	tm;
	time_t		l, t;

	l = now + tz_offset(zone, now);
	gmtime_r(&l, &tm);
	tm.tm_mday += day;
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	l = timegm(&tm);
	gmtime_r(&l, &tm);
	if (tz_local_to_utc(zone, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    min / 60, min % 60, &t) == -1)
		return (0);
	return (t);
}

/* Step st (a write); 0, or -1 with *cause set. */
static int
demo_step(struct yiqid *ctx, sqlite3_stmt *st, char **cause)
{
	int	rc;

	rc = db_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	xasprintf(cause, "demo data: %s", sqlite3_errmsg(ctx->db));
	return (-1);
}

static int
demo_audit(struct yiqid *ctx, const char *action, const char *object,
    const char *id, char **cause)
{
	if (db_audit(ctx, 0, action, object, id, json_pack("{s:b}", "demo",
	    1)) == SQLITE_OK)
		return (0);
	xasprintf(cause, "demo data: %s", sqlite3_errmsg(ctx->db));
	return (-1);
}

static int
demo_sites_load(struct yiqid *ctx, char **cause)
{
	static const char *const q =
	    "INSERT INTO sites (code, name, district_id, timezone) VALUES "
	    "(:code, :name, (SELECT id FROM districts WHERE code = :d), :tz)";
	const struct demo_site	*s;
	sqlite3_stmt		*st;
	size_t			 i;

	for (i = 0; i < NITEMS(demo_sites); i++) {
		s = &demo_sites[i];
		if (db_lookup_id(ctx, "sites", s->code) != 0)
			continue;
		st = db_prepare(ctx, q);
		db_bind_text(st, ":code", s->code);
		db_bind_text(st, ":name", s->name);
		db_bind_text(st, ":d", s->district);
		db_bind_text(st, ":tz", YIQID_DEFAULT_ZONE);
		if (demo_step(ctx, st, cause) == -1 || demo_audit(ctx,
		    "site.create", "site", s->code, cause) == -1)
			return (-1);
	}
	return (0);
}

static int
demo_institutes_load(struct yiqid *ctx, char **cause)
{
	static const char *const q =
	    "INSERT INTO institutes (code, name, district_id, private) VALUES "
	    "(:code, :name, (SELECT id FROM districts WHERE code = :d), :p)";
	const struct demo_institute	*n;
	sqlite3_stmt			*st;
	size_t				 i;

	for (i = 0; i < NITEMS(demo_institutes); i++) {
		n = &demo_institutes[i];
		if (db_lookup_id(ctx, "institutes", n->code) != 0)
			continue;
		st = db_prepare(ctx, q);
		db_bind_text(st, ":code", n->code);
		db_bind_text(st, ":name", n->name);
		db_bind_text(st, ":d", n->district);
		db_bind_int(st, ":p", n->private);
		if (demo_step(ctx, st, cause) == -1 || demo_audit(ctx,
		    "institute.create", "institute", n->code, cause) == -1)
			return (-1);
	}
	return (0);
}

static int
demo_instruments_load(struct demo *d, char **cause)
{
	const struct demo_instrument	*m;
	json_t				*j;
	char				*field, *why;
	int64_t				 id;
	size_t				 i;

	for (i = 0; i < NITEMS(demo_instruments); i++) {
		m = &demo_instruments[i];
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
		    "s:{s:i,s:i,s:i,s:i,s:i,s:s,s:b,s:b,s:i,s:i}}",
		    "code", m->code, "name", m->name, "category", m->category,
		    "manufacturer", m->manufacturer, "model", m->model,
		    "site", m->site, "room", m->room, "owner", m->owner,
		    "status", m->status, "description", m->description,
		    "rules", "granularity_min", m->granularity,
		    "min_duration_min", m->min_duration, "max_duration_min",
		    m->max_duration, "advance_days", m->advance_days,
		    "buffer_min", m->buffer, "opening_hours", m->hours,
		    "requires_approval", m->approval, "requires_qualification",
		    m->qualification, "rate_internal", m->rate_internal,
		    "rate_external", m->rate_external);
		if (instrument_apply(d->ctx, j, 0, 0, d->admin, &id, &field,
		    &why) != 0) {
			xasprintf(cause, "demo instrument %s: %s", m->code,
			    why != NULL ? why : sqlite3_errmsg(d->ctx->db));
			free(field);
			free(why);
			json_decref(j);
			return (-1);
		}
		json_decref(j);
	}
	return (0);
}

/* Link user uid to the instruments it manages and the sites it covers. */
static int
demo_user_sets(struct yiqid *ctx, const struct demo_user *u, int64_t uid,
    char **cause)
{
	static const char *const q_i =
	    "INSERT OR IGNORE INTO user_instruments (user_id, instrument_id) "
	    "VALUES (:u, (SELECT id FROM instruments WHERE code = :c))";
	static const char *const q_s =
	    "INSERT OR IGNORE INTO user_sites (user_id, site_id) "
	    "VALUES (:u, (SELECT id FROM sites WHERE code = :c))";
	sqlite3_stmt	*st;
	size_t		 i;

	for (i = 0; i < NITEMS(u->manages) && u->manages[i] != NULL; i++) {
		st = db_prepare(ctx, q_i);
		db_bind_int(st, ":u", uid);
		db_bind_text(st, ":c", u->manages[i]);
		if (demo_step(ctx, st, cause) == -1)
			return (-1);
	}
	for (i = 0; i < NITEMS(u->sites) && u->sites[i] != NULL; i++) {
		st = db_prepare(ctx, q_s);
		db_bind_int(st, ":u", uid);
		db_bind_text(st, ":c", u->sites[i]);
		if (demo_step(ctx, st, cause) == -1)
			return (-1);
	}
	return (0);
}

/* Create the demo users that do not exist yet, and note who may book. */
static int
demo_users_load(struct demo *d, int sets, char **cause)
{
	static const char *const q =
	    "INSERT INTO users (login, name, email, institute_id, role, "
	    "created) VALUES (:l, :n, :l || '@example.org', (SELECT id "
	    "FROM institutes WHERE code = :i), :r, :now)";
	const struct demo_user	*u;
	sqlite3_stmt		*st;
	int64_t			 uid;
	size_t			 i;

	d->nbookers = 0;
	for (i = 0; i < NITEMS(demo_users); i++) {
		u = &demo_users[i];
		if ((uid = db_lookup_id(d->ctx, "users", u->login)) == 0) {
			st = db_prepare(d->ctx, q);
			db_bind_text(st, ":l", u->login);
			db_bind_text(st, ":n", u->name);
			db_bind_text(st, ":i", u->institute);
			db_bind_text(st, ":r", u->role);
			db_bind_int(st, ":now", d->now);
			if (demo_step(d->ctx, st, cause) == -1)
				return (-1);
			uid = sqlite3_last_insert_rowid(d->ctx->db);
			if (demo_audit(d->ctx, "user.create", "user", u->login,
			    cause) == -1)
				return (-1);
		}
		if (strcmp(u->role, "admin") == 0 && d->admin == 0)
			d->admin = uid;
		if (sets && demo_user_sets(d->ctx, u, uid, cause) == -1)
			return (-1);
		if (strcmp(u->role, "member") == 0 ||
		    strcmp(u->role, "manager") == 0) {
			d->bookers[d->nbookers] = uid;
			d->booker_inst[d->nbookers++] = db_lookup_id(d->ctx,
			    "institutes", u->institute);
		}
	}
	return (0);
}

static int
demo_blackouts_load(struct demo *d, char **cause)
{
	static const char *const q =
	    "INSERT INTO blackouts (instrument_id, site_id, start, \"end\", "
	    "reason, created_by, created) VALUES (:i, :s, :start, :end, :why, "
	    ":by, :now)";
	const struct demo_blackout	*b;
	struct demo_span		*sp;
	sqlite3_stmt			*st;
	char				 id[32];
	size_t				 i;

	for (i = 0; i < NITEMS(demo_blackouts); i++) {
		b = &demo_blackouts[i];
		sp = &d->spans[d->nspans++];
		sp->instrument_id = b->instrument != NULL ? db_lookup_id(d->ctx,
		    "instruments", b->instrument) : 0;
		sp->site_id = b->site != NULL ? db_lookup_id(d->ctx, "sites",
		    b->site) : 0;
		sp->span.start = demo_time(YIQID_DEFAULT_ZONE, d->now, b->day,
		    b->from);
		sp->span.end = demo_time(YIQID_DEFAULT_ZONE, d->now, b->day,
		    b->to);
		st = db_prepare(d->ctx, q);
		if (sp->instrument_id != 0)
			db_bind_int(st, ":i", sp->instrument_id);
		else
			db_bind_null(st, ":i");
		if (sp->site_id != 0)
			db_bind_int(st, ":s", sp->site_id);
		else
			db_bind_null(st, ":s");
		db_bind_int(st, ":start", sp->span.start);
		db_bind_int(st, ":end", sp->span.end);
		db_bind_text(st, ":why", b->reason);
		db_bind_int(st, ":by", d->admin);
		db_bind_int(st, ":now", d->now);
		if (demo_step(d->ctx, st, cause) == -1)
			return (-1);
		snprintf(id, sizeof id, "%lld",
		    (long long)sqlite3_last_insert_rowid(d->ctx->db));
		if (demo_audit(d->ctx, "blackout.create", "blackout", id,
		    cause) == -1)
			return (-1);
	}
	return (0);
}

/* Does [start, end) touch a blackout of the instrument or its site? */
static int
demo_blacked_out(struct demo *d, const struct instrument *in,
    const struct span *s)
{
	size_t	i;

	for (i = 0; i < d->nspans; i++) {
		if (d->spans[i].instrument_id != in->id &&
		    d->spans[i].site_id != in->site_id)
			continue;
		if (span_overlaps(&d->spans[i].span, s, 0))
			return (1);
	}
	return (0);
}

/* The status (and check-in/out, cancel reason) of a booking at s. */
static const char *
demo_status(struct demo *d, const struct instrument *in,
    const struct span *s, time_t *in_at, time_t *out_at, const char **why)
{
	uint32_t	x = demo_rand(d) % 20;

	*in_at = *out_at = 0;
	*why = "";
	if (x < 2) {
		*why = cancel_reasons[demo_rand(d) % NITEMS(cancel_reasons)];
		return ("cancelled");
	}
	if (s->end <= d->now) {
		if (x == 2 && s->end + 3600 < d->now)
			return ("no_show");
		*in_at = s->start + (demo_rand(d) % 5) * 60;
		*out_at = s->end - (demo_rand(d) % 5) * 60;
		return ("completed");
	}
	if (s->start <= d->now) {
		*in_at = s->start + 300;
		return ("confirmed");
	}
	if (in->rules.requires_approval && x % 3 == 0)
		return ("pending");
	return ("confirmed");
}

/* Insert one booking of instrument in over s. */
static int
demo_book(struct demo *d, const struct instrument *in, const struct span *s,
    char **cause)
{
	static const char *const q =
	    "INSERT INTO reservations (uid, instrument_id, user_id, "
	    "institute_id, start, \"end\", status, purpose, project, created, "
	    "updated, sequence, checked_in, checked_out, cancel_reason, "
	    "created_by) VALUES (:uid, :i, :u, :inst, :s, :e, :st, :p, :proj, "
	    ":c, :up, :seq, :ci, :co, :why, :u)";
	const struct demo_purpose	*p;
	sqlite3_stmt			*st;
	unsigned char			 raw[16];
	char				 hex[33], uid[64], id[32];
	const char			*status, *why;
	time_t				 ci, co, created;
	size_t				 who;

	status = demo_status(d, in, s, &ci, &co, &why);
	who = demo_rand(d) % d->nbookers;
	p = &demo_purposes[demo_rand(d) % NITEMS(demo_purposes)];
	created = s->start - 86400 * (1 + demo_rand(d) % 10);
	if (created > d->now)
		created = d->now - 3600 * (1 + demo_rand(d) % 48);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	snprintf(uid, sizeof uid, "%s@yiqi", hex);
	st = db_prepare(d->ctx, q);
	db_bind_text(st, ":uid", uid);
	db_bind_int(st, ":i", in->id);
	db_bind_int(st, ":u", d->bookers[who]);
	db_bind_int(st, ":inst", d->booker_inst[who]);
	db_bind_int(st, ":s", s->start);
	db_bind_int(st, ":e", s->end);
	db_bind_text(st, ":st", status);
	db_bind_text(st, ":p", p->purpose);
	db_bind_text(st, ":proj", p->project);
	db_bind_int(st, ":c", created);
	db_bind_int(st, ":up", co != 0 ? co : created);
	db_bind_int(st, ":seq", *why != '\0');
	if (ci != 0)
		db_bind_int(st, ":ci", ci);
	else
		db_bind_null(st, ":ci");
	if (co != 0)
		db_bind_int(st, ":co", co);
	else
		db_bind_null(st, ":co");
	db_bind_text(st, ":why", why);
	if (demo_step(d->ctx, st, cause) == -1)
		return (-1);
	snprintf(id, sizeof id, "%lld",
	    (long long)sqlite3_last_insert_rowid(d->ctx->db));
	d->nbookings++;
	return (demo_audit(d->ctx, "reservation.create", "reservation", id,
	    cause));
}

/* Place one to three bookings on one day, aligned and inside the rules. */
static int
demo_day(struct demo *d, const struct instrument *in, int day, char **cause)
{
	const struct rules	*ru = &in->rules;
	struct span		 s;
	int			 g = ru->granularity_min;
	int			 n, k, m, len, base, cap;

	base = (ru->min_duration_min + g - 1) / g * g;
	if (base > ru->max_duration_min)
		return (0);
	cap = ru->max_duration_min < 240 ? ru->max_duration_min : 240;
	if (cap < base)
		cap = base;
	n = 1 + demo_rand(d) % 3;
	m = 8 * 60;
	for (k = 0; k < n; k++) {
		m += (int)(demo_rand(d) % 5) * 30;
		m = (m + g - 1) / g * g;
		len = base + g * (int)(demo_rand(d) % ((cap - base) / g + 1));
		if (m + len > 22 * 60 || (day > 0 && m + len > DEMO_NOON &&
		    strcmp(in->code, DEMO_SHOWCASE) == 0))
			break;
		s.start = demo_time(in->zone, d->now, day, m);
		s.end = s.start + len * 60;
		m += len + ru->buffer_min;
		if (!hours_contains(&ru->hours, in->zone, s.start, s.end) ||
		    demo_blacked_out(d, in, &s) || (s.start > d->now &&
		    s.end > d->now + ru->advance_days * 86400L))
			continue;
		if (demo_book(d, in, &s, cause) == -1)
			return (-1);
	}
	return (0);
}

/* Book the active (and, in the past, the maintenance) instruments. */
static int
demo_bookings_load(struct demo *d, char **cause)
{
	struct instrument	in;
	int64_t			id;
	size_t			i;
	int			day, rc = 0;

	for (i = 0; i < NITEMS(demo_instruments) && rc == 0; i++) {
		id = db_lookup_id(d->ctx, "instruments",
		    demo_instruments[i].code);
		if (instrument_load(d->ctx, NULL, id, &in) == -1)
			continue;
		for (day = -DEMO_DAYS; day <= DEMO_DAYS && rc == 0; day++) {
			if (strcmp(in.status, "retired") == 0 ||
			    (strcmp(in.status, "active") != 0 && day >= 0) ||
			    demo_rand(d) % 4 == 0)
				continue;
			rc = demo_day(d, &in, day, cause);
		}
		instrument_free(&in);
	}
	return (rc);
}

/* Create everything, in one transaction. */
static int
demo_create(struct demo *d, char **cause)
{
	int	rc;

	if ((rc = db_begin(d->ctx)) != SQLITE_OK) {
		xasprintf(cause, "demo data: %s", sqlite3_errstr(rc));
		return (-1);
	}
	if (demo_sites_load(d->ctx, cause) == -1 ||
	    demo_institutes_load(d->ctx, cause) == -1 ||
	    demo_users_load(d, 0, cause) == -1 ||
	    demo_instruments_load(d, cause) == -1 ||
	    demo_users_load(d, 1, cause) == -1 ||
	    demo_blackouts_load(d, cause) == -1 ||
	    demo_bookings_load(d, cause) == -1) {
		db_rollback(d->ctx);
		return (-1);
	}
	if ((rc = db_commit(d->ctx)) != SQLITE_OK) {
		xasprintf(cause, "demo data: %s", sqlite3_errstr(rc));
		return (-1);
	}
	log_info("demo data: %zu sites, %zu institutes, %zu instruments, "
	    "%zu users, %d bookings", NITEMS(demo_sites),
	    NITEMS(demo_institutes), NITEMS(demo_instruments),
	    NITEMS(demo_users), d->nbookings);
	return (0);
}

/* A new API token for user uid; the caller frees it. */
static char *
demo_token(struct yiqid *ctx, int64_t uid, const char *login, char **cause)
{
	static const char *const q =
	    "INSERT INTO tokens (user_id, kind, hash, label, created) "
	    "VALUES (:u, 'api', :h, 'demo', :now)";
	sqlite3_stmt	*st;
	unsigned char	 hash[32];
	char		*token, id[32];

	token = token_new();
	token_hash(token, hash);
	st = db_prepare(ctx, q);
	db_bind_int(st, ":u", uid);
	db_bind_blob(st, ":h", hash, sizeof hash);
	db_bind_int(st, ":now", db_now(ctx));
	if (demo_step(ctx, st, cause) == 0) {
		snprintf(id, sizeof id, "%lld",
		    (long long)sqlite3_last_insert_rowid(ctx->db));
		if (db_audit(ctx, 0, "token.create", "token", id, json_pack(
		    "{s:s,s:s}", "user", login, "label", "demo")) == SQLITE_OK)
			return (token);
		xasprintf(cause, "demo token: %s", sqlite3_errmsg(ctx->db));
	}
	free(token);
	return (NULL);
}

/* Make and print a token for every demo user there is. */
static int
demo_tokens(struct yiqid *ctx, char **cause)
{
	char	*token, *hint = NULL;
	int64_t	 uid;
	size_t	 i;
	int	 rc;

	if ((rc = db_begin(ctx)) != SQLITE_OK) {
		xasprintf(cause, "demo tokens: %s", sqlite3_errstr(rc));
		return (-1);
	}
	printf("# yiqi demo tokens (role login token)\n");
	for (i = 0; i < NITEMS(demo_users); i++) {
		uid = db_lookup_id(ctx, "users", demo_users[i].login);
		if (uid == 0)
			continue;
		if ((token = demo_token(ctx, uid, demo_users[i].login,
		    cause)) == NULL) {
			db_rollback(ctx);
			free(hint);
			return (-1);
		}
		printf("%s %s %s\n", demo_users[i].role, demo_users[i].login,
		    token);
		if (hint == NULL && strcmp(demo_users[i].role, "member") == 0)
			hint = xstrdup(token);
		free(token);
	}
	fflush(stdout);
	if ((rc = db_commit(ctx)) != SQLITE_OK) {
		xasprintf(cause, "demo tokens: %s", sqlite3_errstr(rc));
		free(hint);
		return (-1);
	}
	if (hint != NULL)
		log_info("try: YIQI_TOKEN=%s yiqi instruments", hint);
	free(hint);
	return (0);
}

/*
 * Load the demo data if the database has no instruments yet, then print a
 * fresh API token for each demo user.  Returns -1 with *cause on error.
 */
int
demo_load(struct yiqid *ctx, char **cause)
{
	static const char *const q = "SELECT count(*) FROM instruments";
	struct demo	*d;
	sqlite3_stmt	*st;
	int64_t		 n = 0;
	int		 rc = 0;

	st = db_prepare(ctx, q);
	if (db_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (n == 0) {
		d = xcalloc(1, sizeof *d);
		d->ctx = ctx;
		d->now = db_now(ctx);
		d->seed = 2463534242U;
		rc = demo_create(d, cause);
		free(d);
	} else
		log_info("demo: the database has instruments; no data added");
	if (rc == 0)
		rc = demo_tokens(ctx, cause);
	return (rc);
}
