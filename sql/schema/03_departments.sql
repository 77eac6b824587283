-- The normalised department records of each run (inputs.md, one table per department table).
-- Rows whose ID cannot be recovered are in rejects instead.

CREATE TABLE IF NOT EXISTS civil_affairs_assistance (
    run_id           VARCHAR NOT NULL,
    county           VARCHAR,
    name             VARCHAR,
    id_number        VARCHAR,
    township         VARCHAR,
    township_raw     VARCHAR,
    village          VARCHAR,
    assistance_type  VARCHAR,
    start_date       DATE,
    end_date         DATE,
    status           VARCHAR,
    amount           DECIMAL(18,2),
    source_file      VARCHAR,
    source_sheet     VARCHAR,
    source_row       INTEGER
);
COMMENT ON TABLE civil_affairs_assistance IS '救助对象 (civil_affairs/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN civil_affairs_assistance.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN civil_affairs_assistance.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN civil_affairs_assistance.name IS '姓名 (headers: 姓名)';
COMMENT ON COLUMN civil_affairs_assistance.id_number IS '身份证号 (headers: 身份证号, 身份证号码, 公民身份号码); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN civil_affairs_assistance.township IS '乡镇(街道) (headers: 乡镇(街道), 乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN civil_affairs_assistance.township_raw IS '乡镇(街道) as the department spelled it';
COMMENT ON COLUMN civil_affairs_assistance.village IS '村(社区) (headers: 村(社区), 村)';
COMMENT ON COLUMN civil_affairs_assistance.assistance_type IS '救助类型 (headers: 救助类型, 保障类型); one of 农村低保 / 城市低保 / 特困供养 / 临时救助';
COMMENT ON COLUMN civil_affairs_assistance.start_date IS '开始日期 (headers: 开始日期, 救助日期, 审批日期); unknown = null';
COMMENT ON COLUMN civil_affairs_assistance.end_date IS '终止日期 (headers: 终止日期, 停保日期); unknown = null';
COMMENT ON COLUMN civil_affairs_assistance.status IS '状态 (headers: 状态, 保障状态); one of 在保 / 停保 / 已发放';
COMMENT ON COLUMN civil_affairs_assistance.amount IS '金额 (headers: 金额, 救助金额, 月保障金); 元; unknown = null';
COMMENT ON COLUMN civil_affairs_assistance.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN civil_affairs_assistance.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN civil_affairs_assistance.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS civil_affairs_deaths (
    run_id        VARCHAR NOT NULL,
    county        VARCHAR,
    name          VARCHAR,
    id_number     VARCHAR,
    township      VARCHAR,
    township_raw  VARCHAR,
    death_date    DATE,
    source_file   VARCHAR,
    source_sheet  VARCHAR,
    source_row    INTEGER
);
COMMENT ON TABLE civil_affairs_deaths IS '火化/死亡登记 (civil_affairs/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN civil_affairs_deaths.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN civil_affairs_deaths.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN civil_affairs_deaths.name IS '姓名 (headers: 姓名, 逝者姓名)';
COMMENT ON COLUMN civil_affairs_deaths.id_number IS '身份证号 (headers: 身份证号, 逝者身份证号); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN civil_affairs_deaths.township IS '乡镇 (headers: 乡镇, 户籍乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN civil_affairs_deaths.township_raw IS '乡镇 as the department spelled it';
COMMENT ON COLUMN civil_affairs_deaths.death_date IS '死亡日期 (headers: 死亡日期); unknown = null';
COMMENT ON COLUMN civil_affairs_deaths.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN civil_affairs_deaths.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN civil_affairs_deaths.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS health_settlements (
    run_id           VARCHAR NOT NULL,
    county           VARCHAR,
    name             VARCHAR,
    id_number        VARCHAR,
    township         VARCHAR,
    township_raw     VARCHAR,
    village          VARCHAR,
    visit_type       VARCHAR,
    admit_date       DATE,
    discharge_date   DATE,
    icd10            VARCHAR,
    diagnosis        VARCHAR,
    total_cost       DECIMAL(18,2),
    basic_paid       DECIMAL(18,2),
    critical_paid    DECIMAL(18,2),
    assistance_paid  DECIMAL(18,2),
    self_paid        DECIMAL(18,2),
    source_file      VARCHAR,
    source_sheet     VARCHAR,
    source_row       INTEGER
);
COMMENT ON TABLE health_settlements IS '医保结算 (health_insurance/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN health_settlements.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN health_settlements.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN health_settlements.name IS '姓名 (headers: 姓名, 患者姓名)';
COMMENT ON COLUMN health_settlements.id_number IS '身份证号 (headers: 身份证号, 证件号码); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN health_settlements.township IS '参保地乡镇 (headers: 参保地乡镇, 乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN health_settlements.township_raw IS '参保地乡镇 as the department spelled it';
COMMENT ON COLUMN health_settlements.village IS '参保地村 (headers: 参保地村, 村)';
COMMENT ON COLUMN health_settlements.visit_type IS '就诊类型 (headers: 就诊类型, 医疗类别); one of 住院 / 门诊慢特病 / 普通门诊';
COMMENT ON COLUMN health_settlements.admit_date IS '入院日期 (headers: 入院日期, 就诊日期); unknown = null';
COMMENT ON COLUMN health_settlements.discharge_date IS '出院日期 (headers: 出院日期, 结算日期); unknown = null';
COMMENT ON COLUMN health_settlements.icd10 IS '疾病诊断编码 (headers: 疾病诊断编码, 诊断编码)';
COMMENT ON COLUMN health_settlements.diagnosis IS '疾病诊断名称 (headers: 疾病诊断名称, 诊断名称)';
COMMENT ON COLUMN health_settlements.total_cost IS '医疗总费用 (headers: 医疗总费用, 总费用); 元; unknown = null';
COMMENT ON COLUMN health_settlements.basic_paid IS '基本医保支付 (headers: 基本医保支付, 统筹支付); 元; unknown = null';
COMMENT ON COLUMN health_settlements.critical_paid IS '大病保险支付 (headers: 大病保险支付); 元; unknown = null';
COMMENT ON COLUMN health_settlements.assistance_paid IS '医疗救助支付 (headers: 医疗救助支付); 元; unknown = null';
COMMENT ON COLUMN health_settlements.self_paid IS '个人自付 (headers: 个人自付, 个人负担); 元; unknown = null';
COMMENT ON COLUMN health_settlements.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN health_settlements.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN health_settlements.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS health_enrolment (
    run_id            VARCHAR NOT NULL,
    county            VARCHAR,
    name              VARCHAR,
    id_number         VARCHAR,
    township          VARCHAR,
    township_raw      VARCHAR,
    year              INTEGER,
    enrolment_status  VARCHAR,
    source_file       VARCHAR,
    source_sheet      VARCHAR,
    source_row        INTEGER
);
COMMENT ON TABLE health_enrolment IS '参保登记 (health_insurance/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN health_enrolment.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN health_enrolment.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN health_enrolment.name IS '姓名 (headers: 姓名)';
COMMENT ON COLUMN health_enrolment.id_number IS '身份证号 (headers: 身份证号, 证件号码); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN health_enrolment.township IS '乡镇 (headers: 乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN health_enrolment.township_raw IS '乡镇 as the department spelled it';
COMMENT ON COLUMN health_enrolment.year IS '参保年度 (headers: 参保年度)';
COMMENT ON COLUMN health_enrolment.enrolment_status IS '参保状态 (headers: 参保状态); one of 已参保 / 未参保 / 中断';
COMMENT ON COLUMN health_enrolment.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN health_enrolment.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN health_enrolment.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS education_students (
    run_id            VARCHAR NOT NULL,
    county            VARCHAR,
    name              VARCHAR,
    id_number         VARCHAR,
    township          VARCHAR,
    township_raw      VARCHAR,
    village           VARCHAR,
    school            VARCHAR,
    stage             VARCHAR,
    grade             VARCHAR,
    enrolment_status  VARCHAR,
    aid               VARCHAR,
    aid_amount        DECIMAL(18,2),
    source_file       VARCHAR,
    source_sheet      VARCHAR,
    source_row        INTEGER
);
COMMENT ON TABLE education_students IS '学籍 (education/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN education_students.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN education_students.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN education_students.name IS '学生姓名 (headers: 学生姓名, 姓名)';
COMMENT ON COLUMN education_students.id_number IS '身份证号 (headers: 身份证号, 身份证件号); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN education_students.township IS '户籍乡镇 (headers: 户籍乡镇, 乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN education_students.township_raw IS '户籍乡镇 as the department spelled it';
COMMENT ON COLUMN education_students.village IS '户籍村 (headers: 户籍村, 村)';
COMMENT ON COLUMN education_students.school IS '学校名称 (headers: 学校名称, 就读学校)';
COMMENT ON COLUMN education_students.stage IS '学段 (headers: 学段); one of 学前 / 小学 / 初中 / 高中 / 中职 / 高职 / 本科';
COMMENT ON COLUMN education_students.grade IS '年级 (headers: 年级)';
COMMENT ON COLUMN education_students.enrolment_status IS '学籍状态 (headers: 学籍状态); one of 在读 / 休学 / 辍学 / 毕业 / 转出';
COMMENT ON COLUMN education_students.aid IS '资助项目 (headers: 资助项目)';
COMMENT ON COLUMN education_students.aid_amount IS '资助金额 (headers: 资助金额); 元; unknown = null';
COMMENT ON COLUMN education_students.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN education_students.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN education_students.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS housing_assessments (
    run_id           VARCHAR NOT NULL,
    county           VARCHAR,
    owner_name       VARCHAR,
    owner_id_number  VARCHAR,
    township         VARCHAR,
    township_raw     VARCHAR,
    village          VARCHAR,
    grade            VARCHAR,
    assessed_date    DATE,
    renovation       VARCHAR,
    completed_date   DATE,
    only_house       VARCHAR,
    source_file      VARCHAR,
    source_sheet     VARCHAR,
    source_row       INTEGER
);
COMMENT ON TABLE housing_assessments IS '农村房屋安全鉴定 (housing/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN housing_assessments.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN housing_assessments.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN housing_assessments.owner_name IS '户主姓名 (headers: 户主姓名, 房主姓名)';
COMMENT ON COLUMN housing_assessments.owner_id_number IS '户主身份证号 (headers: 户主身份证号, 房主身份证号); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN housing_assessments.township IS '乡镇 (headers: 乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN housing_assessments.township_raw IS '乡镇 as the department spelled it';
COMMENT ON COLUMN housing_assessments.village IS '村 (headers: 村, 行政村)';
COMMENT ON COLUMN housing_assessments.grade IS '鉴定等级 (headers: 鉴定等级, 安全等级); one of A级 / B级 / C级 / D级';
COMMENT ON COLUMN housing_assessments.assessed_date IS '鉴定日期 (headers: 鉴定日期); unknown = null';
COMMENT ON COLUMN housing_assessments.renovation IS '改造状态 (headers: 改造状态); one of 未改造 / 改造中 / 已改造 / 不需改造';
COMMENT ON COLUMN housing_assessments.completed_date IS '竣工日期 (headers: 竣工日期, 改造完成日期); unknown = null';
COMMENT ON COLUMN housing_assessments.only_house IS '是否唯一住房 (headers: 是否唯一住房); 是 / 否 / null';
COMMENT ON COLUMN housing_assessments.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN housing_assessments.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN housing_assessments.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';

CREATE TABLE IF NOT EXISTS disability_certificates (
    run_id        VARCHAR NOT NULL,
    county        VARCHAR,
    name          VARCHAR,
    id_number     VARCHAR,
    cert_number   VARCHAR,
    township      VARCHAR,
    township_raw  VARCHAR,
    village       VARCHAR,
    category      VARCHAR,
    grade         VARCHAR,
    issued_date   DATE,
    cert_status   VARCHAR,
    source_file   VARCHAR,
    source_sheet  VARCHAR,
    source_row    INTEGER
);
COMMENT ON TABLE disability_certificates IS '残疾人证 (disability/): the normalised records of each run, canonical names of inputs.md.';
COMMENT ON COLUMN disability_certificates.run_id IS '运行编号 The run that loaded this row.';
COMMENT ON COLUMN disability_certificates.county IS '县 (headers: 县, 县(市、区、旗), 县(市、区), 区县, 所属县); the configured county when the file has no county column';
COMMENT ON COLUMN disability_certificates.name IS '姓名 (headers: 姓名)';
COMMENT ON COLUMN disability_certificates.id_number IS '身份证号 (headers: 身份证号, 公民身份号码); normalised to 18 upper-case characters (15-digit upgraded)';
COMMENT ON COLUMN disability_certificates.cert_number IS '残疾证号 (headers: 残疾证号, 残疾人证号)';
COMMENT ON COLUMN disability_certificates.township IS '乡镇 (headers: 乡镇); the county''s canonical township name, null when it does not resolve (S08)';
COMMENT ON COLUMN disability_certificates.township_raw IS '乡镇 as the department spelled it';
COMMENT ON COLUMN disability_certificates.village IS '村 (headers: 村)';
COMMENT ON COLUMN disability_certificates.category IS '残疾类别 (headers: 残疾类别); one of 视力 / 听力 / 言语 / 肢体 / 智力 / 精神 / 多重';
COMMENT ON COLUMN disability_certificates.grade IS '残疾等级 (headers: 残疾等级); one of 一级 / 二级 / 三级 / 四级';
COMMENT ON COLUMN disability_certificates.issued_date IS '发证日期 (headers: 发证日期); unknown = null';
COMMENT ON COLUMN disability_certificates.cert_status IS '证件状态 (headers: 证件状态); one of 有效 / 注销';
COMMENT ON COLUMN disability_certificates.source_file IS '来源文件 Path of the input file, relative to the inbox.';
COMMENT ON COLUMN disability_certificates.source_sheet IS '来源工作表 Sheet of the input workbook; null for CSV and Parquet.';
COMMENT ON COLUMN disability_certificates.source_row IS '来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates).';
