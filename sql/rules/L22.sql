-- L22 在校状况与学籍不一致 (person; active members).
-- Policy: 教育学籍数据比对（义务教育保障，在校生状况线上线下一致）.
-- Roster stages map to registry stages: 学前教育↔学前, 小学, 初中, 高中, 中职, 高职 and 大专↔高职,
-- 本科及以上↔本科 (national-export grade values count as their stage). Fires when the roster says
-- in school but the registry has no 在读 record for the ID, or the registry has a 在读 record
-- but the roster says 非在校生 (an empty school status counts as 非在校生) or a stage that none of
-- the person's 在读 records has. A 在读 record without a stage does not contradict any stage.
-- Skipped by the runner when the registry is absent.
WITH roster AS (
    SELECT
        household_id, id_number, name, county, township, village, school_status,
        CASE
            WHEN school_status IN ('学前教育', '学龄前儿童') THEN '学前'
            WHEN school_status IN ('一年级', '二年级', '三年级', '四年级', '五年级', '六年级')
                OR school_status LIKE '小学%' THEN '小学'
            WHEN school_status IN ('七年级', '八年级', '九年级') OR school_status LIKE '初中%' THEN '初中'
            WHEN school_status LIKE '高中%' THEN '高中'
            WHEN school_status LIKE '中职%' THEN '中职'
            WHEN school_status LIKE '高职%' OR school_status LIKE '大专%' THEN '高职'
            WHEN school_status LIKE '本科%' OR school_status LIKE '硕士%' THEN '本科'
        END AS stage
    FROM active_members
),
enrolled AS (
    SELECT
        id_number,
        list(DISTINCT CASE
            WHEN stage IN ('学前', '学前教育') THEN '学前'
            WHEN stage IN ('高职', '大专', '高职/大专') THEN '高职'
            WHEN stage IN ('本科', '本科及以上') THEN '本科'
            ELSE stage
        END) FILTER (WHERE stage IS NOT NULL) AS stages,
        bool_or(stage IS NULL) AS any_unstaged
    FROM education_students
    WHERE enrolment_status = '在读'
      AND id_number IS NOT NULL
    GROUP BY id_number
),
compared AS (
    SELECT r.*, e.id_number IS NOT NULL AS in_registry, e.stages, e.any_unstaged
    FROM roster AS r
    LEFT JOIN enrolled AS e USING (id_number)
)
SELECT
    household_id,
    id_number,
    name,
    county, township, village,
    CASE
        WHEN NOT in_registry THEN '在校生状况为' || school_status || '，但教育学籍中无该成员的在读记录'
        WHEN stage IS NULL THEN '教育学籍为在读（' || coalesce(array_to_string(stages, '、'), '学段空') || '），但在校生状况为'
            || coalesce(nullif(school_status, ''), '空（非在校生）')
        ELSE '教育学籍为在读（' || coalesce(array_to_string(stages, '、'), '学段空') || '），但在校生状况为' || school_status
    END AS detail
FROM compared
WHERE (stage IS NOT NULL AND NOT in_registry)
   OR (in_registry AND stage IS NULL)
   OR (in_registry AND stage IS NOT NULL AND NOT coalesce(any_unstaged, false)
       AND NOT list_contains(stages, stage));
