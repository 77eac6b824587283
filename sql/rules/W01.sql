-- W01 高额医疗自付 (rules.md W01; risk type 因病; verify within 30 days; out-of-roster too).
-- Finds: roster households whose members' self-paid medical costs in the window sum to
--   >= med_self_paid_roster 元, or to >= med_income_ratio x household annual net income
--   (per_capita_net_income x household_size) when that income is known and > 0;
--   out-of-roster, living people whose own sum is >= med_self_paid_others 元 (placed by the
--   township and village of their latest settlement in the window).
-- Policy: 曲江区方案 部门筛查预警（医保数据比对）; 甘肃 六必访 大病重病患者家庭必访.
-- Reads: as_of, window_days, med_self_paid_roster, med_self_paid_others, med_income_ratio.
-- A settlement's date is its discharge date, else its admit date; a missing self_paid is
-- total - basic - critical - assistance when all four are present. Deceased people's
-- settlements count for nobody (they are neither active members nor out-of-roster people).
WITH in_window AS MATERIALIZED (
    SELECT
        s.id_number,
        s.name,
        s.county,
        s.township,
        s.township_raw,
        s.village,
        s.visit_type,
        s.icd10,
        s.diagnosis,
        s.source_file,
        s.source_row,
        coalesce(s.discharge_date, s.admit_date) AS settled_on,
        coalesce(
            s.self_paid,
            s.total_cost - s.basic_paid - s.critical_paid - s.assistance_paid
        ) AS paid
    FROM health_settlements AS s
    WHERE s.id_number IS NOT NULL
      AND in_last_days(coalesce(s.discharge_date, s.admit_date), getvariable('window_days'))
      AND coalesce(s.self_paid, s.total_cost - s.basic_paid - s.critical_paid - s.assistance_paid) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = s.id_number)
),

person_sums AS MATERIALIZED (
    SELECT id_number, sum(paid) AS total_paid
    FROM in_window
    GROUP BY id_number
),

roster_sums AS (
    SELECT rp.household_id, sum(p.total_paid) AS total_paid
    FROM person_sums AS p
    JOIN roster_persons AS rp USING (id_number)
    GROUP BY rp.household_id
),

roster_fired AS (
    SELECT
        h.*,
        r.total_paid,
        r.total_paid >= getvariable('med_self_paid_roster')::DECIMAL(18, 2) AS over_amount
    FROM roster_sums AS r
    JOIN households AS h USING (household_id)
    WHERE r.total_paid >= getvariable('med_self_paid_roster')::DECIMAL(18, 2)
       OR (h.per_capita_net_income IS NOT NULL
           AND h.household_size IS NOT NULL
           AND h.per_capita_net_income * h.household_size > 0
           AND r.total_paid >= getvariable('med_income_ratio')::DECIMAL(18, 6)
                               * h.per_capita_net_income * h.household_size)
),

others_fired AS (
    SELECT p.id_number, p.total_paid
    FROM person_sums AS p
    WHERE p.total_paid >= getvariable('med_self_paid_others')::DECIMAL(18, 2)
      AND NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = p.id_number)
),

-- Evidence only for what fired: one line per settlement.
items AS (
    SELECT
        i.*,
        strftime(i.settled_on, '%Y-%m-%d') || ' ' || coalesce(i.visit_type, '就诊')
            || coalesce(' ' || i.icd10, '') || coalesce(' ' || i.diagnosis, '')
            || ' ' || format('{:,.2f}', i.paid) || ' 元' AS item,
        concat_ws('|', i.id_number, i.settled_on, i.icd10, i.paid) AS record_key
    FROM in_window AS i
    WHERE i.id_number IN (SELECT id_number FROM others_fired)
       OR i.id_number IN (SELECT rp.id_number FROM roster_persons AS rp
                          JOIN roster_fired AS f USING (household_id))
),

roster_items AS (
    SELECT
        rp.household_id,
        count(*) AS n,
        string_agg(coalesce(i.name || '：', '') || i.item, '；'
                   ORDER BY i.settled_on, i.id_number, i.source_file, i.source_row) AS items,
        md5(string_agg(i.record_key, ',' ORDER BY i.record_key)) AS evidence_key
    FROM items AS i
    JOIN roster_persons AS rp USING (id_number)
    WHERE rp.household_id IN (SELECT household_id FROM roster_fired)
    GROUP BY rp.household_id
),

roster_hits AS (
    SELECT
        f.household_id,
        f.head_id_number AS id_number,
        f.head_name AS name,
        f.county,
        f.township,
        f.village,
        true AS in_roster,
        CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '家庭成员医保个人自付合计 ' || format('{:,.2f}', f.total_paid) || ' 元'
            || CASE
                   WHEN f.over_amount
                       THEN '，达到预警线 ' || format('{:,.2f}', getvariable('med_self_paid_roster')::DECIMAL(18, 2)) || ' 元'
                   ELSE '，达到家庭年纯收入 ' || format('{:,.2f}', f.per_capita_net_income * f.household_size)
                        || ' 元（人均 ' || format('{:,.2f}', f.per_capita_net_income) || ' 元 × '
                        || f.household_size || ' 人）的 '
                        || format('{:g}', (getvariable('med_income_ratio') * 100)::DOUBLE) || '%'
               END
            || '（' || r.n || ' 条结算：' || r.items || '）' AS evidence,
        r.evidence_key
    FROM roster_fired AS f
    JOIN roster_items AS r USING (household_id)
),

other_hits AS (
    SELECT
        NULL::VARCHAR AS household_id,
        o.id_number,
        arg_max(i.name, (i.settled_on, i.source_row)) AS name,
        arg_max(i.county, (i.settled_on, i.source_row)) AS county,
        arg_max(i.township, (i.settled_on, i.source_row)) AS township,
        arg_max(i.village, (i.settled_on, i.source_row)) AS village,
        false AS in_roster,
        '非建档立卡/监测户：' || CASE WHEN getvariable('window_days') = 365 THEN '近一年' ELSE '近' || getvariable('window_days') || '天' END || '医保个人自付合计 ' || format('{:,.2f}', o.total_paid) || ' 元，达到预警线 '
            || format('{:,.2f}', getvariable('med_self_paid_others')::DECIMAL(18, 2)) || ' 元（'
            || count(*) || ' 条结算：'
            || string_agg(i.item, '；' ORDER BY i.settled_on, i.source_file, i.source_row) || '）'
            || CASE WHEN arg_max(i.township, (i.settled_on, i.source_row)) IS NULL
                    THEN '；医保记录乡镇“' || coalesce(arg_max(i.township_raw, (i.settled_on, i.source_row)), '空')
                         || '”无法对应本县乡镇'
                    ELSE '' END AS evidence,
        md5(string_agg(i.record_key, ',' ORDER BY i.record_key)) AS evidence_key
    FROM others_fired AS o
    JOIN items AS i USING (id_number)
    GROUP BY o.id_number, o.total_paid
)

SELECT * FROM roster_hits
UNION ALL
SELECT * FROM other_hits
