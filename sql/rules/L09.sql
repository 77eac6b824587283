-- L09 收入信息缺失或不一致 (household).
-- Policy: 甘肃整改通知 六、数据质量方面（收入信息不完整）.
-- Fires when per_capita_net_income is empty; or when all four income parts are present and
-- |(wage + business + property + transfer) ÷ household_size − per-capita| > max(1 元, 1 % of the
-- per-capita income). Compared as |sum − per-capita × size| > tolerance × size, in exact decimals,
-- so a difference of exactly 1 元 does not fire. Without a positive household_size the second
-- half is not evaluated (L14 reports the size).
WITH incomes AS (
    SELECT
        household_id, county, township, village, household_size, per_capita_net_income AS pc,
        wage_income + business_income + property_income + transfer_income AS parts_sum,
        greatest(1, 0.01 * per_capita_net_income) AS tolerance
    FROM households
),
flagged AS (
    SELECT
        *,
        pc IS NULL AS missing,
        pc IS NOT NULL AND parts_sum IS NOT NULL AND household_size > 0
            AND abs(parts_sum - pc * household_size) > tolerance * household_size AS inconsistent
    FROM incomes
)
SELECT
    household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    county, township, village,
    CASE
        WHEN missing THEN '年人均纯收入为空（收入信息缺失）'
        ELSE '工资性、生产经营性、财产性、转移性收入合计 '
            || regexp_replace(printf('%.2f', parts_sum::DOUBLE), '\.?0+$', '') || ' 元 ÷ 家庭人口 '
            || household_size || ' 人 = '
            || regexp_replace(printf('%.2f', round(parts_sum / household_size, 2)::DOUBLE), '\.?0+$', '')
            || ' 元，与年人均纯收入 ' || regexp_replace(printf('%.2f', pc::DOUBLE), '\.?0+$', '')
            || ' 元相差 '
            || regexp_replace(printf('%.2f', round(abs(parts_sum / household_size - pc), 2)::DOUBLE), '\.?0+$', '')
            || ' 元（超过允许误差 ' || regexp_replace(printf('%.2f', tolerance::DOUBLE), '\.?0+$', '') || ' 元）'
    END AS detail
FROM flagged
WHERE missing OR inconsistent;
