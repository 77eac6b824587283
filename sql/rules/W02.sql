-- W02 新发重大疾病 (rules.md W02; risk type 因病; verify within 30 days; roster only).
-- Finds: roster households with an active member who has a settlement in the window whose
--   ICD-10 code starts with one of the major-disease prefixes, while the roster's health
--   status of that member is not 患有大病.
-- Policy: 甘肃 六必查 有病人住院的家庭必查; 七个不消 有大病患者的不消.
-- Reads: as_of, window_days, major_disease_icd10 (list of prefixes; dots are ignored on both
--   sides so N18.5 matches N185 and N18.500).
-- A settlement's date is its discharge date, else its admit date.
WITH prefixes AS (
    SELECT DISTINCT upper(replace(trim(p), '.', '')) AS prefix
    FROM (SELECT unnest(getvariable('major_disease_icd10')) AS p)
    WHERE trim(p) <> ''
),

settlements AS (
    SELECT
        s.*,
        coalesce(s.discharge_date, s.admit_date) AS settled_on,
        upper(replace(s.icd10, '.', '')) AS code
    FROM health_settlements AS s
    WHERE s.icd10 IS NOT NULL
      AND in_last_days(coalesce(s.discharge_date, s.admit_date), getvariable('window_days'))
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = s.id_number)
),

major AS (
    SELECT s.*
    FROM settlements AS s
    WHERE EXISTS (SELECT 1 FROM prefixes AS p WHERE starts_with(s.code, p.prefix))
),

member_health AS (
    SELECT
        rp.id_number,
        rp.household_id,
        bool_or(coalesce(m.health, '') = '患有大病') AS has_major
    FROM roster_persons AS rp
    JOIN active_members AS m
      ON m.id_number = rp.id_number AND m.household_id = rp.household_id
    GROUP BY ALL
),

hits AS (
    SELECT
        mh.household_id,
        s.*,
        coalesce(s.name || '：', '') || strftime(s.settled_on, '%Y-%m-%d')
            || coalesce(' ' || s.visit_type, '') || ' ' || s.icd10 || coalesce(' ' || s.diagnosis, '') AS item
    FROM major AS s
    JOIN member_health AS mh USING (id_number)
    WHERE NOT mh.has_major
),

by_household AS (
    SELECT
        household_id,
        count(*) AS n,
        string_agg(item, '；' ORDER BY settled_on, id_number, source_file, source_row) AS items,
        string_agg(DISTINCT name, '、' ORDER BY name) AS people,
        md5(string_agg(concat_ws('|', id_number, settled_on, icd10), ','
                       ORDER BY id_number, settled_on, icd10)) AS evidence_key
    FROM hits
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
    '成员 ' || b.people || ' ' || CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '医保结算诊断为重大疾病，监测系统健康状况未标注“患有大病”（'
        || b.n || ' 条结算：' || b.items || '）' AS evidence,
    b.evidence_key
FROM by_household AS b
JOIN households AS h USING (household_id)
