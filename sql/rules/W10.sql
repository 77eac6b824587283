-- W10 收入大幅下降 (rules.md W10; risk type 收入骤减; verify within 30 days; roster only).
-- Finds: roster households with prev_per_capita_net_income > 0 whose drop
--   (prev - current) / prev is >= income_drop_ratio, and that are not at risk
--   (at risk = monitoring_category not empty and risk_eliminated not 是).
--   Compared exactly in decimals: (prev - current) >= ratio x prev.
-- Policy: 石泉县办法 因就业不稳、因产业失败等风险类型; 甘肃整改通知 收入信息完整准确.
-- Reads: income_drop_ratio.
SELECT
    h.household_id,
    h.head_id_number AS id_number,
    h.head_name AS name,
    h.county,
    h.township,
    h.village,
    true AS in_roster,
    '年人均纯收入由上年 ' || format('{:,.2f}', h.prev_per_capita_net_income) || ' 元降至 '
        || format('{:,.2f}', h.per_capita_net_income) || ' 元，下降 '
        || format('{:.1f}', ((h.prev_per_capita_net_income - h.per_capita_net_income) * 100
                             / h.prev_per_capita_net_income)::DOUBLE) || '%（预警线 '
        || format('{:g}', (getvariable('income_drop_ratio') * 100)::DOUBLE) || '%）'
        || CASE WHEN coalesce(h.monitoring_category, '') <> ''
                THEN '（监测对象类别 ' || h.monitoring_category || '，风险已消除）'
                ELSE '' END AS evidence,
    md5(concat_ws('|', h.household_id, h.prev_per_capita_net_income, h.per_capita_net_income)) AS evidence_key
FROM households AS h
WHERE h.prev_per_capita_net_income > 0
  AND h.per_capita_net_income IS NOT NULL
  AND h.prev_per_capita_net_income - h.per_capita_net_income
      >= getvariable('income_drop_ratio')::DECIMAL(18, 6) * h.prev_per_capita_net_income
  AND NOT (coalesce(h.monitoring_category, '') <> '' AND coalesce(h.risk_eliminated, '') <> '是')
