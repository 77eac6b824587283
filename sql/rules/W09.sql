-- W09 收入低于监测标准 (rules.md W09; risk type 收入; verify within 30 days; roster only).
-- Finds: roster households whose per-capita net income is below the monitoring line of the
--   as-of year and that are not at risk (at risk = monitoring_category not empty and
--   risk_eliminated not 是). An unknown income does not fire (L09 reports it).
-- Policy: 监测范围 年人均纯收入低于当年监测标准 (甘孜州 5000 元, 曲江区 9600 元; 省定).
-- Reads: as_of, line (NULL when the configuration has no line for the year: the runner skips
--   the rule, and this SELECT returns nothing).
SELECT
    h.household_id,
    h.head_id_number AS id_number,
    h.head_name AS name,
    h.county,
    h.township,
    h.village,
    true AS in_roster,
    '年人均纯收入 ' || format('{:,.2f}', h.per_capita_net_income) || ' 元，低于'
        || year(getvariable('as_of')) || '年监测标准 '
        || format('{:,.2f}', getvariable('line')::DECIMAL(18, 2)) || ' 元'
        || CASE WHEN coalesce(h.monitoring_category, '') <> ''
                THEN '（监测对象类别 ' || h.monitoring_category || '，风险已消除）'
                ELSE '（非监测户）' END AS evidence,
    md5(concat_ws('|', h.household_id, h.per_capita_net_income, getvariable('line'))) AS evidence_key
FROM households AS h
WHERE getvariable('line') IS NOT NULL
  AND h.per_capita_net_income < getvariable('line')::DECIMAL(18, 2)
  AND NOT (coalesce(h.monitoring_category, '') <> '' AND coalesce(h.risk_eliminated, '') <> '是')
