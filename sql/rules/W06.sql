-- W06 新增重度残疾 (rules.md W06; risk type 因残; verify within 30 days; out-of-roster too).
-- Finds: disability certificates with status 有效, issued in the window, of grade 一级 or 二级,
--   or of category 智力 / 精神 with grade 三级 or 四级; for an active roster member (warning on
--   the household) or an out-of-roster, living person (placed by the certificate's township
--   and village).
-- Policy: 甘肃 六必访 重度残疾人家庭必访; 六必查 残疾人家庭必查.
-- Reads: as_of, window_days.
WITH severe AS (
    SELECT
        c.*,
        coalesce(c.name || '：', '') || coalesce(c.category, '') || '残疾' || coalesce(c.grade, '')
            || '（残疾证号 ' || coalesce(c.cert_number, '未填')
            || '，发证日期 ' || strftime(c.issued_date, '%Y-%m-%d') || '）' AS item,
        concat_ws('|', c.id_number, c.cert_number, c.category, c.grade, c.issued_date) AS record_key
    FROM disability_certificates AS c
    WHERE c.id_number IS NOT NULL
      AND c.cert_status = '有效'
      AND in_last_days(c.issued_date, getvariable('window_days'))
      AND (c.grade IN ('一级', '二级')
           OR (c.category IN ('智力', '精神') AND c.grade IN ('三级', '四级')))
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = c.id_number)
),

roster_hits AS (
    SELECT
        rp.household_id,
        string_agg(s.item, '；' ORDER BY s.id_number, s.issued_date, s.source_file, s.source_row) AS items,
        md5(string_agg(s.record_key, ',' ORDER BY s.record_key)) AS evidence_key
    FROM severe AS s
    JOIN roster_persons AS rp USING (id_number)
    GROUP BY rp.household_id
),

other_hits AS (
    SELECT
        id_number,
        arg_max(name, (issued_date, source_row)) AS name,
        arg_max(county, (issued_date, source_row)) AS county,
        arg_max(township, (issued_date, source_row)) AS township,
        arg_max(township_raw, (issued_date, source_row)) AS township_raw,
        arg_max(village, (issued_date, source_row)) AS village,
        string_agg(item, '；' ORDER BY issued_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM severe AS s
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
    CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '新办重度残疾人证（有效）：' || r.items AS evidence,
    r.evidence_key
FROM roster_hits AS r
JOIN households AS h USING (household_id)

UNION ALL

SELECT
    NULL::VARCHAR AS household_id,
    id_number,
    name,
    county,
    township,
    village,
    false AS in_roster,
    '非建档立卡/监测户：' || CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '新办重度残疾人证（有效）：' || items
        || CASE WHEN township IS NULL
                THEN '；残联记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
