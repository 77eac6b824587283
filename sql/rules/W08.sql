-- W08 临时救助 (rules.md W08; risk type 突发严重困难; verify within 30 days; out-of-roster too).
-- Finds: 临时救助 records dated (start_date) within the last temp_assistance_days days, for an
--   active roster member (warning on the household) or an out-of-roster, living person
--   (placed by the record's township and village).
-- Policy: 甘肃 六必访 遭遇重大变故和自然灾害的家庭必访; 甘孜州第十一条 重大变故类不超过1个月.
-- Reads: as_of, temp_assistance_days.
WITH temp_aid AS (
    SELECT
        a.*,
        coalesce(a.name || '：', '') || '临时救助 ' || strftime(a.start_date, '%Y-%m-%d')
            || coalesce(' ' || format('{:,.2f}', a.amount) || ' 元', '') AS item,
        concat_ws('|', a.id_number, a.start_date, a.amount) AS record_key
    FROM civil_affairs_assistance AS a
    WHERE a.id_number IS NOT NULL
      AND a.assistance_type = '临时救助'
      AND in_last_days(a.start_date, getvariable('temp_assistance_days'))
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = a.id_number)
),

roster_hits AS (
    SELECT
        rp.household_id,
        count(*) AS n,
        string_agg(t.item, '；' ORDER BY t.id_number, t.start_date, t.source_file, t.source_row) AS items,
        md5(string_agg(t.record_key, ',' ORDER BY t.record_key)) AS evidence_key
    FROM temp_aid AS t
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
        count(*) AS n,
        string_agg(item, '；' ORDER BY start_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM temp_aid AS t
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = t.id_number)
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
    '近' || getvariable('temp_assistance_days') || '天内家庭成员领取临时救助 ' || r.n || ' 次：' || r.items AS evidence,
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
    '非建档立卡/监测户：近' || getvariable('temp_assistance_days') || '天内领取临时救助 ' || n || ' 次：' || items
        || CASE WHEN township IS NULL
                THEN '；民政记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
