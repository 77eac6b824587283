-- Active member: status 正常 (or empty) and no death registration on or before the as-of date.
-- Carries the member's household (county, township, village) and age at the as-of date.
CREATE OR REPLACE VIEW active_members AS
SELECT
    m.* EXCLUDE (county),
    age_at(m.id_number, getvariable('as_of')) AS age,
    h.county,
    h.township,
    h.village
FROM members AS m
LEFT JOIN households AS h USING (household_id)
WHERE coalesce(nullif(trim(m.status), ''), '正常') = '正常'
  AND NOT EXISTS (SELECT 1 FROM deaths_asof AS d WHERE d.id_number = m.id_number);
