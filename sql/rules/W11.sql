-- W11 失业未就业 (rules.md W11; risk type 因务工就业不稳; verify within 30 days; out-of-roster too).
-- Finds: unemployment registrations with status not 注销 (empty counts as not 注销), registered
--   on or before as-of − unemployed_days (undated rows do not count), whose own re-employment
--   date is empty or after the as-of date — each row judged on its own —, of a person aged
--   within labor_age at the as-of date: an active roster member whose household lives mainly on
--   wages (wage_income ≥ main_income_share × the four income parts, or a part empty, or their
--   sum not > 0), or an out-of-roster, living person (placed by the registration's township
--   and village).
-- Policy: 石泉县 二(二) 因就业不稳“突然失业3个月仍未就业”; 曲江区 四(三) 人社部门数据比对.
-- Reads: as_of, unemployed_days, labor_age_min, labor_age_max, main_income_share.
WITH unemployed AS (
    SELECT
        u.*,
        age_at(u.id_number, getvariable('as_of')) AS age,
        coalesce(u.name || '：', '') || '失业登记 ' || strftime(u.registered_date, '%Y-%m-%d')
            || '，至基准日 ' || (getvariable('as_of') - u.registered_date) || ' 天未就业登记'
            || coalesce('（失业原因 ' || u.reason || '）', '') AS item,
        concat_ws('|', u.id_number, u.registered_date, u.reemployed_date, u.registration_status) AS record_key
    FROM hr_unemployment AS u
    WHERE u.id_number IS NOT NULL
      AND coalesce(u.registration_status, '') <> '注销'
      AND u.registered_date <= getvariable('as_of') - getvariable('unemployed_days')::INTEGER
      AND (u.reemployed_date IS NULL OR u.reemployed_date > getvariable('as_of'))
      AND age_at(u.id_number, getvariable('as_of'))
          BETWEEN getvariable('labor_age_min') AND getvariable('labor_age_max')
      AND NOT EXISTS (SELECT 1 FROM deceased_ids AS d WHERE d.id_number = u.id_number)
),

wage_households AS (
    SELECT household_id
    FROM households
    WHERE wage_income IS NULL OR business_income IS NULL OR property_income IS NULL OR transfer_income IS NULL
       OR NOT (wage_income + business_income + property_income + transfer_income > 0)
       OR wage_income >= getvariable('main_income_share')
                         * (wage_income + business_income + property_income + transfer_income)
),

roster_hits AS (
    SELECT
        rp.household_id,
        string_agg(u.item, '；' ORDER BY u.id_number, u.registered_date, u.source_file, u.source_row) AS items,
        md5(string_agg(u.record_key, ',' ORDER BY u.record_key)) AS evidence_key
    FROM unemployed AS u
    JOIN roster_persons AS rp USING (id_number)
    JOIN wage_households USING (household_id)
    GROUP BY rp.household_id
),

other_hits AS (
    SELECT
        id_number,
        arg_max(name, (registered_date, source_row)) AS name,
        arg_max(county, (registered_date, source_row)) AS county,
        arg_max(township, (registered_date, source_row)) AS township,
        arg_max(township_raw, (registered_date, source_row)) AS township_raw,
        arg_max(village, (registered_date, source_row)) AS village,
        string_agg(item, '；' ORDER BY registered_date, source_file, source_row) AS items,
        md5(string_agg(record_key, ',' ORDER BY record_key)) AS evidence_key
    FROM unemployed AS u
    WHERE NOT EXISTS (SELECT 1 FROM roster_persons AS rp WHERE rp.id_number = u.id_number)
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
    '人社部门登记家庭成员失业超过' || getvariable('unemployed_days') || '天仍未就业（家庭以工资性收入为主）：'
        || r.items AS evidence,
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
    '非建档立卡/监测户：人社部门登记其失业超过' || getvariable('unemployed_days') || '天仍未就业：' || items
        || CASE WHEN township IS NULL
                THEN '；登记记录乡镇“' || coalesce(township_raw, '空') || '”无法对应本县乡镇'
                ELSE '' END AS evidence,
    evidence_key
FROM other_hits
