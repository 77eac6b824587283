-- W01 高额医疗自付 (rules.md W01; risk type 因病; verify within 30 days).
-- Finds: roster households whose members' self-paid medical costs in the window sum to
--   >= med_self_paid_roster 元, or to >= med_income_ratio x household annual net income
--   (per_capita_net_income x household_size) when that income is known and > 0;
--   out-of-roster people whose own sum is >= med_self_paid_others 元.
-- Policy: 曲江区方案 部门筛查预警（医保数据比对）; 甘肃 六必访 大病重病患者家庭必访.
-- Reads: as_of, window_days, med_self_paid_roster, med_self_paid_others, med_income_ratio.
-- A settlement's date is its discharge date, else its admit date; a missing self_paid is
-- total - basic - critical - assistance when all four are present. Deceased people are left out.
WITH settlements AS (
    SELECT
        s.*,
        coalesce(s.discharge_date, s.admit_date) AS settled_on,
        coalesce(
            s.self_paid,
            s.total_cost - s.basic_paid - s.critical_paid - s.assistance_paid
        ) AS paid
    FROM health_settlements AS s
    WHERE s.id_number IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = s.id_number)
),

in_window AS (
    SELECT
        *,
        strftime(settled_on, '%Y-%m-%d') || ' ' || coalesce(visit_type, '就诊')
            || coalesce(' ' || icd10, '') || coalesce(' ' || diagnosis, '')
            || ' ' || format('{:,.2f}', paid) || ' 元' AS item
    FROM settlements
    WHERE paid IS NOT NULL
      AND in_last_days(settled_on, getvariable('window_days'))
),

roster_items AS (
    SELECT rp.household_id, i.*
    FROM in_window AS i
    JOIN roster_persons AS rp USING (id_number)
),

roster_sums AS (
    SELECT
        household_id,
        sum(paid) AS total_paid,
        count(*) AS n,
        string_agg(coalesce(name || '：', '') || item, '；'
                   ORDER BY settled_on, id_number, source_file, source_row) AS items,
        md5(string_agg(concat_ws('|', id_number, settled_on, icd10, paid), ','
                       ORDER BY id_number, settled_on, icd10, paid)) AS evidence_key
    FROM roster_items
    GROUP BY household_id
),

roster_hits AS (
    SELECT
        h.household_id,
        h.head_id_number AS id_number,
        h.head_name AS name,
        h.county,
        h.township,
        h.village,
        true AS in_roster,
        '近一年家庭成员医保个人自付合计 ' || format('{:,.2f}', r.total_paid) || ' 元'
            || CASE
                   WHEN r.total_paid >= getvariable('med_self_paid_roster')::DECIMAL(18, 2)
                       THEN '，达到预警线 ' || format('{:,.2f}', getvariable('med_self_paid_roster')::DECIMAL(18, 2)) || ' 元'
                   ELSE '，达到家庭年纯收入 ' || format('{:,.2f}', h.per_capita_net_income * h.household_size)
                        || ' 元（人均 ' || format('{:,.2f}', h.per_capita_net_income) || ' 元 × '
                        || h.household_size || ' 人）的 '
                        || format('{:g}', getvariable('med_income_ratio') * 100) || '%'
               END
            || '（' || r.n || ' 条结算：' || r.items || '）' AS evidence,
        r.evidence_key
    FROM roster_sums AS r
    JOIN households AS h USING (household_id)
    WHERE r.total_paid >= getvariable('med_self_paid_roster')::DECIMAL(18, 2)
       OR (h.per_capita_net_income IS NOT NULL
           AND h.household_size IS NOT NULL
           AND h.per_capita_net_income * h.household_size > 0
           AND r.total_paid >= getvariable('med_income_ratio')::DECIMAL(18, 6)
                               * h.per_capita_net_income * h.household_size)
),

other_sums AS (
    SELECT
        id_number,
        arg_max(name, (settled_on, source_row)) AS name,
        arg_max(county, (settled_on, source_row)) AS county,
        arg_max(township, (settled_on, source_row)) AS township,
        arg_max(township_raw, (settled_on, source_row)) AS township_raw,
        arg_max(village, (settled_on, source_row)) AS village,
        sum(paid) AS total_paid,
        count(*) AS n,
        string_agg(item, '；' ORDER BY settled_on, source_file, source_row) AS items,
        md5(string_agg(concat_ws('|', id_number, settled_on, icd10, paid), ','
                       ORDER BY settled_on, icd10, paid)) AS evidence_key
    FROM in_window
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = in_window.id_number)
    GROUP BY id_number
),

other_hits AS (
    SELECT
        NULL::VARCHAR AS household_id,
        id_number,
        name,
        county,
        township,
        village,
        false AS in_roster,
        '非建档立卡/监测户：近一年医保个人自付合计 ' || format('{:,.2f}', total_paid) || ' 元，达到预警线 '
            || format('{:,.2f}', getvariable('med_self_paid_others')::DECIMAL(18, 2)) || ' 元（'
            || n || ' 条结算：' || items || '）'
            || CASE WHEN township IS NULL
                    THEN '；医保记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                    ELSE '' END AS evidence,
        evidence_key
    FROM other_sums
    WHERE total_paid >= getvariable('med_self_paid_others')::DECIMAL(18, 2)
)

SELECT * FROM roster_hits
UNION ALL
SELECT * FROM other_hits
