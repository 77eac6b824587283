-- The normalised roster of each run (inputs.md "roster/"). Every run is kept: rows carry run_id.

CREATE TABLE IF NOT EXISTS households (
    run_id                      VARCHAR NOT NULL,
    household_id                VARCHAR,
    county                      VARCHAR,
    township                    VARCHAR,
    village                     VARCHAR,
    head_name                   VARCHAR,
    head_id_number              VARCHAR,
    head_id_number_raw          VARCHAR,
    exit_year                   INTEGER,
    monitoring_category         VARCHAR,
    monitoring_start_date       DATE,
    risk_eliminated             VARCHAR,
    risk_eliminated_date        DATE,
    risk_types                  VARCHAR[],
    household_size              INTEGER,
    per_capita_net_income       DECIMAL(18,2),
    prev_per_capita_net_income  DECIMAL(18,2),
    wage_income                 DECIMAL(18,2),
    business_income             DECIMAL(18,2),
    property_income             DECIMAL(18,2),
    transfer_income             DECIMAL(18,2),
    edu_guaranteed              VARCHAR,
    med_guaranteed              VARCHAR,
    housing_guaranteed          VARCHAR,
    water_guaranteed            VARCHAR,
    cadre_name                  VARCHAR,
    cadre_phone                 VARCHAR,
    source_file                 VARCHAR,
    source_sheet                VARCHAR,
    source_row                  INTEGER
);
COMMENT ON TABLE households IS '户信息 (roster/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN households.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN households.household_id IS '户编号 (headers: 户编号, 户码)';
COMMENT ON COLUMN households.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN households.township IS '乡镇 (headers: 乡镇, 乡(镇), 乡, 所属乡镇); the roster''s spelling is canonical';
COMMENT ON COLUMN households.village IS '行政村 (headers: 行政村, 村, 所属村)';
COMMENT ON COLUMN households.head_name IS '户主姓名 (headers: 户主姓名)';
COMMENT ON COLUMN households.head_id_number IS '户主证件号码 (headers: 户主证件号码, 户主身份证号); normalised to 18 upper-case characters (15-digit upgraded); kept even when invalid (L10 reports it)';
COMMENT ON COLUMN households.head_id_number_raw IS '户主证件号码 as delivered, before normalisation';
COMMENT ON COLUMN households.exit_year IS '脱贫年度 (headers: 脱贫年度, 脱贫年份)';
COMMENT ON COLUMN households.monitoring_category IS '监测对象类别 (headers: 监测对象类别, 监测类型); one of 脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户';
COMMENT ON COLUMN households.monitoring_start_date IS '识别监测时间 (headers: 识别监测时间, 纳入监测时间); unknown = null';
COMMENT ON COLUMN households.risk_eliminated IS '风险是否消除 (headers: 风险是否消除, 风险是否已消除); 是 / 否 / null';
COMMENT ON COLUMN households.risk_eliminated_date IS '风险消除时间 (headers: 风险消除时间); unknown = null';
COMMENT ON COLUMN households.risk_types IS '致贫返贫风险类型 (headers: 致贫返贫风险类型, 风险类型); one of 因病 / 因残 / 因学 / 因灾 / 因意外事故 / 因产业项目失败 / 因务工就业不稳 / 缺劳动力 / 住房出现安全问题 / 饮水安全问题 / 其他; list of risk types';
COMMENT ON COLUMN households.household_size IS '家庭人口数 (headers: 家庭人口数, 家庭人口)';
COMMENT ON COLUMN households.per_capita_net_income IS '年人均纯收入 (headers: 年人均纯收入, 人均纯收入); 元; unknown = null';
COMMENT ON COLUMN households.prev_per_capita_net_income IS '上年人均纯收入 (headers: 上年人均纯收入, 上年度人均纯收入); 元; unknown = null';
COMMENT ON COLUMN households.wage_income IS '工资性收入 (headers: 工资性收入); 元; unknown = null';
COMMENT ON COLUMN households.business_income IS '生产经营性收入 (headers: 生产经营性收入); 元; unknown = null';
COMMENT ON COLUMN households.property_income IS '财产性收入 (headers: 财产性收入); 元; unknown = null';
COMMENT ON COLUMN households.transfer_income IS '转移性收入 (headers: 转移性收入); 元; unknown = null';
COMMENT ON COLUMN households.edu_guaranteed IS '义务教育保障 (headers: 义务教育保障); 是 / 否 / null';
COMMENT ON COLUMN households.med_guaranteed IS '基本医疗保障 (headers: 基本医疗保障); 是 / 否 / null';
COMMENT ON COLUMN households.housing_guaranteed IS '住房安全保障 (headers: 住房安全保障); 是 / 否 / null';
COMMENT ON COLUMN households.water_guaranteed IS '饮水安全保障 (headers: 饮水安全保障); 是 / 否 / null';
COMMENT ON COLUMN households.cadre_name IS '帮扶责任人 (headers: 帮扶责任人, 包抓干部)';
COMMENT ON COLUMN households.cadre_phone IS '帮扶责任人联系电话 (headers: 帮扶责任人联系电话, 联系电话)';
COMMENT ON COLUMN households.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN households.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN households.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS members (
    run_id         VARCHAR NOT NULL,
    county         VARCHAR,
    household_id   VARCHAR,
    name           VARCHAR,
    id_number      VARCHAR,
    id_number_raw  VARCHAR,
    gender         VARCHAR,
    relation       VARCHAR,
    school_status  VARCHAR,
    health         VARCHAR,
    labor          VARCHAR,
    work_status    VARCHAR,
    work_months    INTEGER,
    insured        VARCHAR,
    dibao          VARCHAR,
    tekun          VARCHAR,
    status         VARCHAR,
    source_file    VARCHAR,
    source_sheet   VARCHAR,
    source_row     INTEGER
);
COMMENT ON TABLE members IS '家庭成员信息 (roster/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN members.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN members.county IS '县 County: the configured county (the roster carries none of its own in the three-table form).';
COMMENT ON COLUMN members.household_id IS '户编号 (headers: 户编号, 户码)';
COMMENT ON COLUMN members.name IS '姓名 (headers: 姓名)';
COMMENT ON COLUMN members.id_number IS '证件号码 (headers: 证件号码, 身份证号, 身份证号码); normalised to 18 upper-case characters (15-digit upgraded); kept even when invalid (L10 reports it)';
COMMENT ON COLUMN members.id_number_raw IS '证件号码 as delivered, before normalisation';
COMMENT ON COLUMN members.gender IS '性别 (headers: 性别); one of 男 / 女';
COMMENT ON COLUMN members.relation IS '与户主关系 (headers: 与户主关系); one of 户主 / 配偶 / 之子 / 之女 / 之儿媳 / 之女婿 / 之孙子 / 之孙女 / 之外孙子 / 之外孙女 / 之曾孙子 / 之曾孙女 / 之父 / 之母 / 之岳父 / 之岳母 / 之公公 / 之婆婆 / 之祖父 / 之祖母 / 之外祖父 / 之外祖母 / 之侄儿 / 之侄女 / 之兄弟姐妹 / 其他';
COMMENT ON COLUMN members.school_status IS '在校生状况 (headers: 在校生状况, 在校生情况); one of 非在校生 / 学前教育 / 小学 / 初中 / 高中 / 中职 / 高职 / 大专 / 本科及以上';
COMMENT ON COLUMN members.health IS '健康状况 (headers: 健康状况); one of 健康 / 长期慢性病 / 患有大病 / 残疾';
COMMENT ON COLUMN members.labor IS '劳动技能 (headers: 劳动技能, 劳动能力); one of 技能劳动力 / 普通劳动力 / 弱劳动力或半劳动力 / 丧失劳动力 / 无劳动力';
COMMENT ON COLUMN members.work_status IS '务工状况 (headers: 务工状况); one of 县内务工 / 省内县外务工 / 省外务工 / 未务工';
COMMENT ON COLUMN members.work_months IS '务工时间(月) (headers: 务工时间(月), 务工月数)';
COMMENT ON COLUMN members.insured IS '是否参加城乡居民基本医疗保险 (headers: 是否参加城乡居民基本医疗保险, 是否参加基本医疗保险); 是 / 否 / null';
COMMENT ON COLUMN members.dibao IS '是否享受农村低保 (headers: 是否享受农村低保, 是否低保); 是 / 否 / null';
COMMENT ON COLUMN members.tekun IS '是否特困供养 (headers: 是否特困供养, 是否特困); 是 / 否 / null';
COMMENT ON COLUMN members.status IS '人员状态 (headers: 人员状态); one of 正常 / 死亡 / 迁出';
COMMENT ON COLUMN members.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN members.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN members.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS measures (
    run_id        VARCHAR NOT NULL,
    county        VARCHAR,
    household_id  VARCHAR,
    measure_type  VARCHAR,
    description   VARCHAR,
    start_date    DATE,
    end_date      DATE,
    amount        DECIMAL(18,2),
    source_file   VARCHAR,
    source_sheet  VARCHAR,
    source_row    INTEGER
);
COMMENT ON TABLE measures IS '帮扶措施 (roster/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN measures.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN measures.county IS '县 County: the configured county (the roster carries none of its own in the three-table form).';
COMMENT ON COLUMN measures.household_id IS '户编号 (headers: 户编号, 户码)';
COMMENT ON COLUMN measures.measure_type IS '帮扶措施类型 (headers: 帮扶措施类型, 措施类型); one of 产业帮扶 / 就业帮扶 / 教育帮扶 / 金融帮扶 / 危房改造 / 低保救助 / 健康帮扶 / 扶志扶智 / 残疾人帮扶 / 社会帮扶';
COMMENT ON COLUMN measures.description IS '帮扶措施内容 (headers: 帮扶措施内容, 措施内容)';
COMMENT ON COLUMN measures.start_date IS '开始时间 (headers: 开始时间, 实施时间); unknown = null';
COMMENT ON COLUMN measures.end_date IS '结束时间 (headers: 结束时间, 完成时间); unknown = null';
COMMENT ON COLUMN measures.amount IS '金额 (headers: 金额, 资金(元)); 元; unknown = null';
COMMENT ON COLUMN measures.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN measures.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN measures.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';
