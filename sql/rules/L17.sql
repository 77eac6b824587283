-- L17 劳动能力与年龄不符 (person; active members).
-- Policy: 劳动力认定口径（16–64 岁为劳动年龄，参数 labor_age）.
-- Fires when age < labor_age_min and labor is not 无劳动力 (an empty labor included: rules.md
-- says "not 无劳动力", as L20 says "≠ 是", and a child's row must say 无劳动力), or when
-- age > labor_age_max and labor is 普通劳动力 / 技能劳动力. Age in full years at the as-of date from
-- the birth date in the ID; an ID not of the 18-character shape, or whose birth date is impossible
-- (no such day, before 1900, after the as-of date — as L10 judges it), gives no age and is not
-- evaluated (L10 reports the ID).
SELECT
    household_id,
    id_number,
    name,
    county, township, village,
    CASE
        WHEN age < getvariable('labor_age_min') THEN
            '年龄 ' || age || ' 岁（未满 ' || getvariable('labor_age_min') || ' 岁），劳动技能却为'
            || coalesce(nullif(labor, ''), '空') || '（应为无劳动力）'
        ELSE
            '年龄 ' || age || ' 岁（超过 ' || getvariable('labor_age_max') || ' 岁），劳动技能却为' || labor
    END AS detail
FROM active_members
WHERE age IS NOT NULL
  AND regexp_full_match(id_number, '[0-9]{17}[0-9X]')
  AND birth_date_of(id_number) BETWEEN DATE '1900-01-01' AND getvariable('as_of')
  AND (
        (age < getvariable('labor_age_min') AND labor IS DISTINCT FROM '无劳动力')
     OR (age > getvariable('labor_age_max') AND labor IN ('普通劳动力', '技能劳动力'))
  );
