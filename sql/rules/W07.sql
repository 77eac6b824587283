-- W07 新纳入低保特困 (rules.md W07; risk type 兜底保障核查; verify within 30 days;
--   out-of-roster too).
-- Finds: 农村低保 or 特困供养 records started in the window and still active (end_date empty or
--   after the as-of date, and status not 停保), for an active roster member whose household is
--   not at risk (at risk = monitoring_category not empty and risk_eliminated not 是), or for an
--   out-of-roster, living person (always; placed by the record's township and village).
-- Policy: 甘肃 六必查 农村低保和特困供养对象必查; 曲江区方案 民政部门低收入人口动态监测.
-- Reads: as_of, window_days.
WITH new_support AS (
    SELECT
        a.*,
        coalesce(a.name || '：', '') || a.assistance_type
            || '（开始日期 ' || strftime(a.start_date, '%Y-%m-%d')
            || '，状态 ' || coalesce(a.status, '未填')
            || coalesce('，月保障金 ' || format('{:,.2f}', a.amount) || ' 元', '') || '）' AS item,
        concat_ws('|', a.id_number, a.assistance_type, a.start_date, a.end_date, a.status) AS record_key
    FROM civil_affairs_assistance AS a
    WHERE a.id_number IS NOT NULL
      AND a.assistance_type IN ('农村低保', '特困供养')
      AND in_last_days(a.start_date, getvariable('window_days'))
      AND (a.end_date IS NULL OR a.end_date > getvariable('as_of'))
      AND coalesce(a.status, '') <> '停保'
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = a.id_number)
),

roster_hits AS (
    SELECT
        rp.household_id,
        string_agg(s.item, '；' ORDER BY s.id_number, s.start_date, s.source_file, s.source_row) AS items,
        md5(string_agg(s.record_key, ',' ORDER BY s.record_key)) AS evidence_key
    FROM new_support AS s
    JOIN roster_persons AS rp USING (id_number)
    GROUP BY rp.household_id
),

other_hits AS (
    SELECT
        id_number,
        arg_max(name, (start_date, source_row)) AS name,
        arg_max(county, (start_date, source_row)) AS county,
        arg_max(township, (start_date, source_row)) AS township,
        arg_max(township_raw, (start_date, source_row)) AS township_raw,
        arg_max(village, (start_date, source_row)) AS village,
        string_agg(item, '；' ORDER BY start_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM new_support AS s
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = s.id_number)
    GROUP BY id_number
)

SELECT
    h.household_id,
    h.head_id_number AS id_number,
    h.head_name AS name,
    h.county,
    h.township,
    h.village,
    true AS in_roster,
    CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '新纳入农村低保/特困供养且仍在保，家庭不是风险未消除的监测户'
        || coalesce('（监测对象类别 ' || nullif(h.monitoring_category, '') || '，风险已消除）', '')
        || '：' || r.items AS evidence,
    r.evidence_key
FROM roster_hits AS r
JOIN households AS h USING (household_id)
WHERE NOT (coalesce(h.monitoring_category, '') <> '' AND coalesce(h.risk_eliminated, '') <> '是')

UNION ALL

SELECT
    NULL::VARCHAR AS household_id,
    id_number,
    name,
    county,
    township,
    village,
    false AS in_roster,
    '非建档立卡/监测户：' || CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '新纳入农村低保/特困供养且仍在保：' || items
        || CASE WHEN township IS NULL
                THEN '；民政记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
