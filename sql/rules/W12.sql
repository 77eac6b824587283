-- W12 因灾受损 (rules.md W12; risk type 因灾; verify within 30 days; out-of-roster too).
-- Finds: disaster-loss records dated in the window, under the ID of an active roster member
--   (warning on the household) or of an out-of-roster, living person (placed by the record's
--   township and village) — a deceased head's record raises nothing, as in W05 —, whose house
--   collapsed or was severely damaged (倒塌 / 严重损坏), or whose direct loss less the relief
--   paid (empty relief = 0) is at least disaster_loss 元 (an empty loss does not count).
-- Policy: 石泉县 二(二) 因自然灾害; 曲江区 四(三) 应急管理部门数据比对; 甘孜州第十一条 重大变故类1个月.
-- Reads: as_of, window_days, disaster_loss.
WITH hit AS (
    SELECT
        e.*,
        coalesce(e.name || '：', '') || coalesce(e.disaster_type, '灾害') || '（受灾日期 '
            || strftime(e.disaster_date, '%Y-%m-%d')
            || '，房屋' || coalesce(e.house_damage, '受损情况未填')
            || coalesce('，直接经济损失 ' || printf('%.2f', e.direct_loss) || ' 元', '')
            || '，已发放救助 ' || printf('%.2f', coalesce(e.relief_paid, 0)) || ' 元）' AS item,
        concat_ws('|', e.id_number, e.disaster_date, e.disaster_type, e.house_damage, e.direct_loss,
                  e.relief_paid) AS record_key
    FROM emergency_disasters AS e
    WHERE e.id_number IS NOT NULL
      AND in_last_days(e.disaster_date, getvariable('window_days'))
      AND (e.house_damage IN ('倒塌', '严重损坏')
           OR e.direct_loss - coalesce(e.relief_paid, 0) >= getvariable('disaster_loss'))
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = e.id_number)
),

roster_hits AS (
    SELECT
        rp.household_id,
        string_agg(x.item, '；' ORDER BY x.id_number, x.disaster_date, x.source_file, x.source_row) AS items,
        md5(string_agg(x.record_key, ',' ORDER BY x.record_key)) AS evidence_key
    FROM hit AS x
    JOIN roster_persons AS rp USING (id_number)
    GROUP BY rp.household_id
),

other_hits AS (
    SELECT
        id_number,
        arg_max(name, (disaster_date, source_row)) AS name,
        arg_max(county, (disaster_date, source_row)) AS county,
        arg_max(township, (disaster_date, source_row)) AS township,
        arg_max(township_raw, (disaster_date, source_row)) AS township_raw,
        arg_max(village, (disaster_date, source_row)) AS village,
        string_agg(item, '；' ORDER BY disaster_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM hit AS x
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = x.id_number)
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
    '应急管理部门受灾台账显示家庭因灾房屋严重受损或损失较大：' || r.items AS evidence,
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
    '非建档立卡/监测户：应急管理部门受灾台账显示其因灾房屋严重受损或损失较大：' || items
        || CASE WHEN township IS NULL
                THEN '；受灾记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
