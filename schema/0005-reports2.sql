-- 0005-reports2.sql: what the annual evaluation of open sharing needs
-- (docs/reports.md): the usage type of every booking and the registry
-- fields of every instrument.

-- What the booking is for, as sharing evaluations count it: 'research',
-- 'teaching', 'service' (social service / testing for others) or 'open'
-- (open use).  Bookings made before this migration are research.
ALTER TABLE reservations ADD COLUMN usage_type TEXT NOT NULL DEFAULT 'research'
    CHECK (usage_type IN ('research', 'teaching', 'service', 'open'));

-- Purchase value (原值) in fen, like all money; 0: not recorded.
ALTER TABLE instruments ADD COLUMN purchase_value INTEGER NOT NULL DEFAULT 0;

-- Acquisition date, YYYY-MM-DD, or '' when not recorded.
ALTER TABLE instruments ADD COLUMN acquisition_date TEXT NOT NULL DEFAULT '';

-- National classification code of the instrument (仪器分类代码), or ''.
ALTER TABLE instruments ADD COLUMN classification_code TEXT NOT NULL DEFAULT '';

-- The person responsible for the instrument (负责人), or ''.
ALTER TABLE instruments ADD COLUMN responsible_person TEXT NOT NULL DEFAULT '';
