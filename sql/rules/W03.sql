-- W03 未参加基本医保 (rules.md W03; risk type 基本医疗保障; verify within 30 days; roster only).
-- Finds: roster households with an active member who has no 已参保 enrolment for the year of the
--   as-of date (no record, or only 未参保 / 中断). Not evaluated (no rows) when the enrolment
--   extract holds no record at all for that year.
-- Policy: 两不愁三保障 基本医疗有保障; 甘肃整改通知 三保障未实现.
-- Reads: as_of.
WITH enrolment_year AS MATERIALIZED (
    SELECT id_number, enrolment_status
    FROM health_enrolment
    WHERE year = year(getvariable('as_of'))
),

not_enrolled AS (
    SELECT m.household_id, m.id_number, m.name
    FROM active_members AS m
    WHERE NOT EXISTS (
            SELECT 1 FROM enrolment_year AS e
            WHERE e.id_number = m.id_number AND e.enrolment_status = '已参保')
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = m.id_number)
),

member_status AS (
    SELECT
        n.household_id,
        n.id_number,
        n.name,
        string_agg(DISTINCT e.enrolment_status, '、' ORDER BY e.enrolment_status) AS statuses
    FROM not_enrolled AS n
    LEFT JOIN enrolment_year AS e USING (id_number)
    GROUP BY ALL
),

hits AS (
    SELECT
        household_id,
        count(*) AS n,
        string_agg(
            coalesce(name, '') || '（' || coalesce(id_number, '无证件号码') || '）'
                || CASE WHEN statuses IS NULL THEN '无' || year(getvariable('as_of')) || '年度参保记录'
                        ELSE year(getvariable('as_of')) || '年度参保状态为' || statuses END,
            '；' ORDER BY id_number, name) AS items,
        md5(string_agg(concat_ws('|', id_number, coalesce(statuses, '无记录')), ','
                       ORDER BY id_number, name)) AS evidence_key
    FROM member_status
    GROUP BY household_id
)

SELECT
    h.household_id,
    h.head_id_number AS id_number,
    h.head_name AS name,
    h.county,
    h.township,
    h.village,
    true AS in_roster,
    r.n || ' 名成员未参加' || year(getvariable('as_of')) || '年度基本医疗保险：' || r.items AS evidence,
    r.evidence_key
FROM hits AS r
JOIN households AS h USING (household_id)
WHERE EXISTS (SELECT 1 FROM enrolment_year)
