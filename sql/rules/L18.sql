-- L18 与户主关系与性别不符 (person; active members).
-- Policy: 家庭成员关系采集规范（GB/T 4761 家庭关系代码）.
-- Fires when a male relation (之子, 之孙子, 之外孙子, 之曾孙子, 之父, 之岳父, 之公公, 之祖父, 之外祖父,
-- 之女婿, 之侄儿) is not 男, or a female relation (之女, 之孙女, 之外孙女, 之曾孙女, 之母, 之岳母, 之婆婆,
-- 之祖母, 之外祖母, 之儿媳, 之侄女) is not 女 — an empty or unknown gender included, as rules.md
-- says "not 男" (as L20 says "≠ 是"): the relation fixes the gender the row must carry. A 配偶
-- fires when of the same gender as the household's 户主 (the single active 户主; with none or
-- several, L13 reports the household and this check is not made); an empty gender on either
-- side is not "the same".
WITH expected AS (
    SELECT
        *,
        CASE
            WHEN relation IN ('之子', '之孙子', '之外孙子', '之曾孙子', '之父', '之岳父', '之公公',
                              '之祖父', '之外祖父', '之女婿', '之侄儿') THEN '男'
            WHEN relation IN ('之女', '之孙女', '之外孙女', '之曾孙女', '之母', '之岳母', '之婆婆',
                              '之祖母', '之外祖母', '之儿媳', '之侄女') THEN '女'
        END AS relation_gender
    FROM active_members
),
heads AS (
    SELECT household_id, min(gender) AS head_gender
    FROM active_members
    WHERE relation = '户主'
    GROUP BY household_id
    HAVING count(*) = 1
)
SELECT
    e.household_id,
    e.id_number,
    e.name,
    e.county, e.township, e.village,
    CASE
        WHEN e.relation = '配偶' THEN '与户主关系为配偶，但性别' || e.gender || '与户主性别相同'
        ELSE '与户主关系为' || e.relation || '，但性别为' || coalesce(nullif(e.gender, ''), '空')
            || '（应为' || e.relation_gender || '）'
    END AS detail
FROM expected AS e
LEFT JOIN heads AS h USING (household_id)
WHERE (e.relation_gender IS NOT NULL AND e.gender IS DISTINCT FROM e.relation_gender)
   OR (e.relation = '配偶' AND e.gender IN ('男', '女') AND e.gender = h.head_gender);
