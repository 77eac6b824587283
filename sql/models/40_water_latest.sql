-- A person's latest drinking-water assessment (rules.md W13, L25): the rows of the greatest
-- assessed_date; undated rows count only when the person has no dated one, and then all of them.
-- `failing` names the indicators a row says 否 for (an empty indicator is not 否); null when none.
CREATE OR REPLACE VIEW water_latest AS
WITH ranked AS (
    SELECT
        w.*,
        max(w.assessed_date) OVER (PARTITION BY w.id_number) AS newest
    FROM water_assessments AS w
    WHERE w.id_number IS NOT NULL
)
SELECT
    r.* EXCLUDE (newest),
    nullif(concat_ws('、',
        CASE WHEN r.quantity_ok = '否' THEN '水量不达标' END,
        CASE WHEN r.quality_ok = '否' THEN '水质不达标' END,
        CASE WHEN r.access_ok = '否' THEN '用水方便程度不达标' END,
        CASE WHEN r.reliability_ok = '否' THEN '供水保证率不达标' END), '') AS failing
FROM ranked AS r
WHERE r.assessed_date = r.newest OR r.newest IS NULL;
