-- L16 在校状况与年龄不符 (person; active members).
-- Policy: 义务教育保障（在校生状况应与学龄相符）.
-- Age in full years at the as-of date from the birth date in the ID. Fires for 学前教育 at
-- age ≥ 7; 小学 outside 6–14; 初中 outside 11–17; 高中 / 中职 outside 14–20; 高职 / 大专 /
-- 本科及以上 under 17. National-export grade values (一年级, 高中二年级, …) count as their stage.
-- A member whose ID is not 18 characters (17 digits and a digit or X), or whose birth date is
-- impossible (no such day, before 1900, after the as-of date — as L10 judges it), is not
-- evaluated: a garbled ID has no trustworthy birth date (L10 reports it).
WITH staged AS (
    SELECT
        *,
        CASE
            WHEN school_status IN ('学前教育', '学龄前儿童') THEN '学前教育'
            WHEN school_status IN ('一年级', '二年级', '三年级', '四年级', '五年级', '六年级')
                OR school_status LIKE '小学%' THEN '小学'
            WHEN school_status IN ('七年级', '八年级', '九年级') OR school_status LIKE '初中%' THEN '初中'
            WHEN school_status LIKE '高中%' THEN '高中'
            WHEN school_status LIKE '中职%' THEN '中职'
            WHEN school_status LIKE '高职%' THEN '高职'
            WHEN school_status LIKE '大专%' THEN '大专'
            WHEN school_status LIKE '本科%' OR school_status LIKE '硕士%' THEN '本科及以上'
        END AS stage
    FROM active_members
    WHERE age IS NOT NULL
      AND regexp_full_match(id_number, '[0-9]{17}[0-9X]')
      AND birth_date_of(id_number) BETWEEN DATE '1900-01-01' AND getvariable('as_of')
),
judged AS (
    SELECT
        *,
        CASE
            WHEN stage = '学前教育' AND age >= 7 THEN '7 岁以下'
            WHEN stage = '小学' AND age NOT BETWEEN 6 AND 14 THEN '6–14 岁'
            WHEN stage = '初中' AND age NOT BETWEEN 11 AND 17 THEN '11–17 岁'
            WHEN stage IN ('高中', '中职') AND age NOT BETWEEN 14 AND 20 THEN '14–20 岁'
            WHEN stage IN ('高职', '大专', '本科及以上') AND age < 17 THEN '17 岁及以上'
        END AS expected_age
    FROM staged
)
SELECT
    household_id,
    id_number,
    name,
    county, township, village,
    '在校生状况为' || school_status || '，但按证件号码计算年龄为 ' || age || ' 岁（' || stage
        || '应为' || expected_age || '）' AS detail
FROM judged
WHERE expected_age IS NOT NULL;
