-- L26 负面清单情形（富人戴穷帽） (household).
-- Policy: 甘孜州第五条 负面清单（购买小轿车、商品房，经营公司，财政供养人员原则上不纳入监测）;
--   甘肃整改通知 二（四） 防止“富人戴穷帽”; 西吉县第三条 负面清单.
-- Fires for a monitored household (monitoring_category not empty) with an active member who
--   - owns a vehicle with status 正常 of type 小型轿车 / 小型普通客车 / 中型客车 / 大型客车 / 重型货车
--     (working vehicles — 三轮汽车, 低速货车, 摩托车, 拖拉机, 轻型货车 — do not count);
--   - holds a 现势 title of 商品房 (自建房 and 安置房 do not count);
--   - is named on a 存续 / 在业 market entity other than a 农民专业合作社 (an empty type counts);
--     a 个体工商户 only with capital ≥ business_capital 万元 (empty capital does not count);
--   - is on the public payroll with status 在职 or 退休.
-- One row per household; the detail names each finding with its register and record. Registers
-- that were not received are empty tables here: only the registers present are checked (the
-- runner says in the summary which were absent).
-- Reads: business_capital.
WITH findings AS (
    SELECT
        v.id_number,
        1 AS register_order,
        '名下' || v.vehicle_type || coalesce(' ' || v.plate, '')
            || '（公安交管机动车登记，初次登记 ' || coalesce(strftime(v.registered_date, '%Y-%m-%d'), '日期不详')
            || '，状态 ' || v.vehicle_status || '）' AS finding,
        concat_ws('|', 'V', v.id_number, v.plate, v.vehicle_type, v.registered_date, v.vehicle_status) AS record_key
    FROM vehicles AS v
    WHERE v.vehicle_status = '正常'
      AND v.vehicle_type IN ('小型轿车', '小型普通客车', '中型客车', '大型客车', '重型货车')

    UNION ALL

    SELECT
        p.id_number,
        2,
        '名下商品房' || coalesce(' ' || p.location, '')
            || '（不动产登记，登记日期 ' || coalesce(strftime(p.registered_date, '%Y-%m-%d'), '日期不详')
            || '，权属状态 ' || p.title_status || '）',
        concat_ws('|', 'P', p.id_number, p.location, p.registered_date, p.title_status)
    FROM property_titles AS p
    WHERE p.title_status = '现势'
      AND p.property_kind = '商品房'

    UNION ALL

    SELECT
        e.id_number,
        3,
        '为 ' || coalesce(e.entity_name, '（名称未填）') || ' '
            || CASE WHEN e.entity_type = '个体工商户' THEN '经营者' ELSE '法定代表人' END
            || '（市场主体登记，' || coalesce(e.entity_type, '类型未填')
            || coalesce('，注册资本 ' || printf('%g', e.capital::DOUBLE) || ' 万元', '')
            || coalesce('，成立 ' || strftime(e.founded_date, '%Y-%m-%d'), '')
            || '，' || e.entity_status || '）',
        concat_ws('|', 'E', e.id_number, e.entity_name, e.entity_type, e.capital, e.founded_date, e.entity_status)
    FROM market_entities AS e
    WHERE e.entity_status IN ('存续', '在业')
      AND e.entity_type IS DISTINCT FROM '农民专业合作社'
      AND (e.entity_type IS DISTINCT FROM '个体工商户' OR e.capital >= getvariable('business_capital'))

    UNION ALL

    SELECT
        s.id_number,
        4,
        '为财政供养人员（' || coalesce(s.employer, '单位未填') || coalesce('，' || s.staff_type, '')
            || '，' || s.payroll_status || '）',
        concat_ws('|', 'S', s.id_number, s.employer, s.staff_type, s.payroll_status)
    FROM public_payroll AS s
    WHERE s.payroll_status IN ('在职', '退休')
),

by_household AS (
    SELECT
        m.household_id,
        string_agg('成员 ' || coalesce(m.name, '（姓名未填）') || ' ' || f.finding, '；'
                   ORDER BY f.register_order, m.name, f.finding) AS findings,
        md5(string_agg(f.record_key, ',' ORDER BY f.record_key)) AS evidence_key
    FROM active_members AS m
    JOIN findings AS f ON f.id_number = m.id_number
    GROUP BY m.household_id
)

SELECT
    h.household_id,
    NULL::VARCHAR AS id_number,
    NULL::VARCHAR AS name,
    h.county, h.township, h.village,
    '监测户（' || h.monitoring_category || '）属负面清单情形：' || b.findings AS detail,
    b.evidence_key
FROM households AS h
JOIN by_household AS b USING (household_id)
WHERE nullif(trim(h.monitoring_category), '') IS NOT NULL;
