-- L03 风险已消除但收入低于监测标准 (household).
-- Policy: 七个不消 2（没有稳定收入来源……未稳定解决的不消）.
-- Fires when risk_eliminated = 是 and per_capita_net_income < line (the monitoring line of the
-- as-of year, getvariable('line')). The runner skips the rule when no line is configured;
-- an empty income is L09's, not this rule's.
WITH eliminated AS (
    SELECT household_id, county, township, village, per_capita_net_income
    FROM households
    WHERE risk_eliminated = '是'
      AND per_capita_net_income IS NOT NULL
)
SELECT
    household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    county, township, village,
    '风险已消除，但年人均纯收入 '
        || regexp_replace(printf('%.2f', per_capita_net_income::DOUBLE), '\.?0+$', '')
        || ' 元低于监测标准 '
        || regexp_replace(printf('%.2f', getvariable('line')::DOUBLE), '\.?0+$', '') || ' 元' AS detail
FROM eliminated
WHERE per_capita_net_income < getvariable('line');
