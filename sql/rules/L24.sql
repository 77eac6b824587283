-- L24 参保状态不一致 (person; active members).
-- Policy: 医保参保数据比对（基本医疗保障，参保信息线上线下一致）.
-- Fires when insured = 是 but the person has no 已参保 enrolment for the as-of year, or
-- insured = 否 but has one. An empty insured is not evaluated. Evaluated only when the enrolment
-- extract holds records for the as-of year (the runner also reports the skip).
WITH enrolled AS (
    SELECT DISTINCT id_number
    FROM health_enrolment
    WHERE year = year(getvariable('as_of'))
      AND enrolment_status = '已参保'
      AND id_number IS NOT NULL
),
year_present AS (
    SELECT count(*) > 0 AS present
    FROM health_enrolment
    WHERE year = year(getvariable('as_of'))
)
SELECT
    m.household_id,
    m.id_number,
    m.name,
    m.county, m.township, m.village,
    CASE
        WHEN m.insured = '是' THEN '系统标注已参加基本医保，但医保无该成员 ' || year(getvariable('as_of')) || ' 年度已参保记录'
        ELSE '系统标注未参加基本医保，但医保有该成员 ' || year(getvariable('as_of')) || ' 年度已参保记录'
    END AS detail
FROM active_members AS m
LEFT JOIN enrolled AS e ON e.id_number = m.id_number
CROSS JOIN year_present AS y
WHERE y.present
  AND ((m.insured = '是' AND e.id_number IS NULL)
    OR (m.insured = '否' AND e.id_number IS NOT NULL));
