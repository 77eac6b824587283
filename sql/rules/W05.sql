-- W05 住房安全鉴定为C/D级 (rules.md W05; risk type 住房安全; verify within 3 months;
--   out-of-roster too).
-- Finds: house safety assessments of grade C or D whose renovation is not 已改造 / 不需改造
--   (empty counts as not renovated) and whose only_house is not 否 (empty counts as not 否),
--   for an owner who is an active roster member (warning on that member's household) or an
--   out-of-roster, living person (warning on that person, placed by the assessment's
--   township and village).
-- Policy: 两不愁三保障 住房安全有保障; 甘孜州第十一条 住房类不超过3个月.
-- Reads: nothing but the tables (no threshold).
WITH unsafe AS (
    SELECT
        a.*,
        a.owner_id_number AS id_number,
        upper(left(trim(a.grade), 1)) AS grade_letter
    FROM housing_assessments AS a
    WHERE a.owner_id_number IS NOT NULL
      AND upper(left(trim(a.grade), 1)) IN ('C', 'D')
      AND coalesce(a.renovation, '') NOT IN ('已改造', '不需改造')
      AND coalesce(a.only_house, '') <> '否'
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = a.owner_id_number)
),

items AS (
    SELECT
        *,
        '房屋安全鉴定' || grade_letter || '级'
            || '（鉴定日期 ' || coalesce(strftime(assessed_date, '%Y-%m-%d'), '不详')
            || '，改造状态 ' || coalesce(renovation, '未填')
            || '，是否唯一住房 ' || coalesce(only_house, '未填') || '）' AS item,
        concat_ws('|', id_number, grade_letter, assessed_date, renovation, only_house) AS record_key
    FROM unsafe
),

roster_hits AS (
    SELECT
        rp.household_id,
        count(*) AS n,
        string_agg(coalesce('房主 ' || i.owner_name || '：', '') || i.item, '；'
                   ORDER BY i.id_number, i.assessed_date, i.source_file, i.source_row) AS items,
        md5(string_agg(i.record_key, ',' ORDER BY i.record_key)) AS evidence_key
    FROM items AS i
    JOIN roster_persons AS rp USING (id_number)
    GROUP BY rp.household_id
),

other_hits AS (
    SELECT
        id_number,
        arg_max(owner_name, (assessed_date, source_row)) AS name,
        arg_max(county, (assessed_date, source_row)) AS county,
        arg_max(township, (assessed_date, source_row)) AS township,
        arg_max(township_raw, (assessed_date, source_row)) AS township_raw,
        arg_max(village, (assessed_date, source_row)) AS village,
        string_agg(item, '；' ORDER BY assessed_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM items AS i
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = i.id_number)
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
    '住建部门鉴定家庭成员住房为危房且未改造：' || r.items AS evidence,
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
    '非建档立卡/监测户：住建部门鉴定其住房为危房且未改造：' || items
        || CASE WHEN township IS NULL
                THEN '；鉴定记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
