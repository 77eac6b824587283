-- W13 饮水不安全 (rules.md W13; risk type 饮水安全问题; verify within 30 days; out-of-roster too).
-- Finds: a person's latest drinking-water assessment (model water_latest: the rows of the
--   greatest assessed_date, all counting; undated rows only when the person has no dated one)
--   saying 否 for any of the four indicators (an empty indicator is not 否), for an active
--   roster member (warning on the household) or an out-of-roster, living person (placed by the
--   assessment's township and village).
-- Policy: 曲江区 新增饮水不安全风险; 两不愁三保障 饮水安全有保障; 甘孜州第十一条 饮水类1个月.
-- Reads: nothing but the tables (no threshold).
WITH failing AS (
    SELECT
        w.*,
        coalesce(w.name || '：', '') || '饮水安全评价（' || coalesce(strftime(w.assessed_date, '%Y-%m-%d'), '日期不详')
            || '）' || w.failing AS item,
        concat_ws('|', w.id_number, w.assessed_date, w.quantity_ok, w.quality_ok, w.access_ok,
                  w.reliability_ok) AS record_key
    FROM water_latest AS w
    WHERE w.failing IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = w.id_number)
),

roster_hits AS (
    SELECT
        rp.household_id,
        string_agg(f.item, '；' ORDER BY f.id_number, f.assessed_date, f.source_file, f.source_row) AS items,
        md5(string_agg(f.record_key, ',' ORDER BY f.record_key)) AS evidence_key
    FROM failing AS f
    JOIN roster_persons AS rp USING (id_number)
    GROUP BY rp.household_id
),

other_hits AS (
    SELECT
        id_number,
        arg_max(name, (assessed_date, source_row)) AS name,
        arg_max(county, (assessed_date, source_row)) AS county,
        arg_max(township, (assessed_date, source_row)) AS township,
        arg_max(township_raw, (assessed_date, source_row)) AS township_raw,
        arg_max(village, (assessed_date, source_row)) AS village,
        string_agg(item, '；' ORDER BY assessed_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM failing AS f
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = f.id_number)
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
    '水利部门最近一次饮水安全评价不达标：' || r.items AS evidence,
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
    '非建档立卡/监测户：水利部门最近一次饮水安全评价不达标：' || items
        || CASE WHEN township IS NULL
                THEN '；评价记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
