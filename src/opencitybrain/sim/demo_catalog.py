"""Seed the demo city's resource catalogue: what each department holds and how it shares.

Idempotent: a resource already in the catalogue (same department and name) is skipped.
Classification: 类 1 基础 (项 01 人口, 02 法人, 03 空间地理, 04 社会信用, 05 电子证照),
类 2 主题, 类 3 部门 (项 = the department's number below).
"""

from __future__ import annotations

from opencitybrain.catalog.model import (
    Classification,
    DataType,
    Domain,
    FieldSpec,
    Level,
    Masking,
    OpenType,
    ResourceFormat,
    ResourceSpec,
    SharingMethod,
    SharingType,
    UpdateCycle,
)
from opencitybrain.catalog.rules import uscc_check_char
from opencitybrain.catalog.search import SearchQuery
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context

D, S, INT, DT = DataType.DATE, DataType.STRING, DataType.INTEGER, DataType.DATETIME
G, IMP, CORE = Level.GENERAL, Level.IMPORTANT, Level.CORE
U, C, N = SharingType.UNCONDITIONAL, SharingType.CONDITIONAL, SharingType.NONE

# Information items that recur across resources.
NAME = FieldSpec("name", "姓名", S, IMP, Masking.NAME)
ID_NUMBER = FieldSpec(
    "id_number", "公民身份号码", DataType.CITIZEN_ID, CORE, Masking.ID_NUMBER, True
)
MOBILE = FieldSpec("mobile", "联系电话", DataType.MOBILE, IMP, Masking.MOBILE)
ADDRESS = FieldSpec("address", "住址", S, IMP, Masking.ADDRESS)
USCC = FieldSpec("uscc", "统一社会信用代码", DataType.USCC, G, Masking.NONE, True)
ORG_NAME = FieldSpec("org_name", "单位名称", S)
PLATE = FieldSpec("plate", "号牌号码", DataType.PLATE, IMP, Masking.PLATE, True)
LOCATION = FieldSpec("location", "位置", DataType.GEOMETRY)
DISTRICT = FieldSpec("district_code", "所属区县代码", S)
LANDLINE = FieldSpec("landline", "固定电话", S, G, Masking.LANDLINE)
BANK_CARD = FieldSpec("bank_card", "银行账号", S, CORE, Masking.BANK_CARD)


def f(name: str, name_zh: str, data_type: DataType = S, level: Level = G) -> FieldSpec:
    """Return a plain information item."""
    return FieldSpec(name, name_zh, data_type, level)


EXIT_ENTRY_BASIS = (
    "《中华人民共和国出境入境管理法》第八十五条：履行出入境管理职责的工作人员对知悉的"
    "公民个人信息应当予以保密"
)

# Department → its number (the 项 of its 类 3 catalogue).
DEPT_NO = {
    "public-security": "01", "market-regulation": "02", "health": "03", "civil-affairs": "04",
    "social-security": "05", "education": "06", "transport": "07", "urban-management": "08",
    "emergency": "09", "command-centre": "10",
}  # fmt: skip

Row = tuple[
    str, tuple[str, str, str], str, str, Domain, SharingType, str, OpenType, UpdateCycle,
    ResourceFormat, tuple[str, ...], str, tuple[FieldSpec, ...],
]  # fmt: skip

# (department, (类, 项, 目), name_zh, name_en, domain, sharing type, condition or legal
#  basis, open type, update cycle, format, tags, abstract, fields)
RESOURCES: tuple[Row, ...] = (
    ("public-security", ("1", "01", "001"), "户籍人口基本信息", "Registered residents",
     Domain.POPULATION, C, "用于政务服务身份核验与人口统计，按业务事项申请，限定字段与用途",
     OpenType.CLOSED, UpdateCycle.DAILY, ResourceFormat.DATABASE, ("人口", "户籍", "身份核验"),
     "本市户籍人口的姓名、公民身份号码、性别、出生日期、民族、户籍地址和户主关系。",
     (NAME, ID_NUMBER, f("gender", "性别"), f("birth_date", "出生日期", D, IMP),
      f("ethnicity", "民族"), ADDRESS, f("household_relation", "与户主关系"))),
    ("public-security", ("1", "01", "002"), "流动人口居住登记信息", "Resident permits of migrants",
     Domain.POPULATION, C, "用于社区治理、随迁子女入学和公共服务，按区县限定范围",
     OpenType.CLOSED, UpdateCycle.DAILY, ResourceFormat.DATABASE, ("人口", "居住证", "流动人口"),
     "来本市居住半年以上人员的居住登记和居住证办理信息。",
     (NAME, ID_NUMBER, MOBILE, ADDRESS, f("permit_no", "居住证编号", S, IMP),
      f("registered_on", "登记日期", D), DISTRICT)),
    ("public-security", ("3", "01", "001"), "机动车登记信息", "Motor vehicle registrations",
     Domain.TRANSPORT, C, "用于交通管理、停车服务和保险核验，不含所有人身份号码明文",
     OpenType.CLOSED, UpdateCycle.DAILY, ResourceFormat.DATABASE, ("机动车", "车辆", "车管所"),
     "本市登记机动车的号牌号码、号牌种类、车辆类型、品牌型号、使用性质、所有人和登记日期。",
     (PLATE, f("plate_type", "号牌种类"), f("vehicle_type", "车辆类型"),
      f("model", "品牌型号"), f("use_character", "使用性质"), NAME, ID_NUMBER,
      f("registered_on", "初次登记日期", D))),
    ("public-security", ("3", "01", "002"), "机动车驾驶证信息", "Driving licences",
     Domain.TRANSPORT, C, "用于营运驾驶员资格核验和交通执法",
     OpenType.CLOSED, UpdateCycle.DAILY, ResourceFormat.DATABASE, ("驾驶证", "驾驶人"),
     "驾驶人的准驾车型、初次领证日期、有效期和记分状态。",
     (NAME, ID_NUMBER, f("licence_class", "准驾车型"), f("first_issued", "初次领证日期", D),
      f("valid_until", "有效期止", D), f("points", "累积记分", INT, IMP))),
    ("public-security", ("3", "01", "003"), "道路交通违法记录", "Traffic violations",
     Domain.TRANSPORT, C, "用于信用评价和营运车辆监管，按车辆所属单位申请",
     OpenType.CLOSED, UpdateCycle.REALTIME, ResourceFormat.API, ("交通违法", "机动车", "交警"),
     "电子监控和现场执法记录的道路交通违法行为，含地点、时间、违法代码和处理状态。",
     (PLATE, f("occurred_at", "违法时间", DT), LOCATION, f("violation_code", "违法代码"),
      f("status", "处理状态"))),
    ("public-security", ("3", "01", "004"), "出入境证件信息", "Exit and entry documents",
     Domain.PUBLIC_SAFETY, N, EXIT_ENTRY_BASIS,
     OpenType.CLOSED, UpdateCycle.DAILY, ResourceFormat.DATABASE, ("出入境", "护照"),
     "普通护照、往来港澳通行证的签发和有效期信息。",
     (NAME, ID_NUMBER, f("document_no", "证件号码", S, CORE), f("valid_until", "有效期止", D))),
    ("market-regulation", ("1", "02", "001"), "企业登记信息", "Business registrations",
     Domain.LEGAL_ENTITY, U, "", OpenType.OPEN, UpdateCycle.DAILY, ResourceFormat.DATABASE,
     ("企业", "法人", "营业执照"),
     "各类企业的名称、统一社会信用代码、类型、法定代表人、注册资本、成立日期、住所和经营范围。",
     (USCC, ORG_NAME, f("org_type", "企业类型"), f("legal_representative", "法定代表人"),
      f("registered_capital", "注册资本（万元）", DataType.DECIMAL),
      f("founded_on", "成立日期", D), f("domicile", "住所"), f("business_scope", "经营范围"))),
    ("market-regulation", ("1", "02", "002"), "个体工商户登记信息", "Sole proprietors",
     Domain.LEGAL_ENTITY, U, "", OpenType.CONDITIONAL, UpdateCycle.DAILY,
     ResourceFormat.DATABASE, ("个体工商户", "营业执照"),
     "个体工商户的字号名称、经营者、经营场所和经营范围。",
     (USCC, ORG_NAME, NAME, f("premises", "经营场所"), f("business_scope", "经营范围"))),
    ("market-regulation", ("1", "04", "001"), "市场监管行政处罚信息", "Market regulation penalties",
     Domain.CREDIT, U, "", OpenType.OPEN, UpdateCycle.WEEKLY, ResourceFormat.DATABASE,
     ("行政处罚", "信用"),
     "市场监管部门作出的行政处罚决定：当事人、违法行为、处罚依据、处罚内容和决定日期。",
     (USCC, ORG_NAME, f("decision_no", "决定书文号"), f("violation", "违法行为类型"),
      f("penalty", "处罚内容"), f("decided_on", "处罚决定日期", D))),
    ("market-regulation", ("3", "02", "001"), "食品经营许可证信息", "Food business licences",
     Domain.MARKET, U, "", OpenType.OPEN, UpdateCycle.DAILY, ResourceFormat.DATABASE,
     ("食品安全", "许可证"),
     "食品经营者的许可证编号、经营项目、有效期和日常监督管理机构。",
     (USCC, ORG_NAME, f("licence_no", "许可证编号"), f("items", "经营项目"),
      f("valid_until", "有效期至", D))),
    ("market-regulation", ("3", "02", "002"), "特种设备登记信息", "Special equipment",
     Domain.MARKET, C, "用于安全生产检查和应急处置", OpenType.CLOSED, UpdateCycle.MONTHLY,
     ResourceFormat.DATABASE, ("特种设备", "电梯", "安全"),
     "电梯、锅炉、压力容器等特种设备的使用单位、设备代码、安装地点和检验日期。",
     (USCC, f("equipment_code", "设备代码"), f("kind", "设备种类"), LOCATION,
      f("next_inspection", "下次检验日期", D))),
    ("health", ("2", "02", "001"), "医疗机构基本信息", "Medical institutions",
     Domain.HEALTH, U, "", OpenType.OPEN, UpdateCycle.MONTHLY, ResourceFormat.DATABASE,
     ("医院", "医疗机构"),
     "医院、社区卫生服务中心和诊所的名称、类别、等级、地址、床位数和诊疗科目。",
     (USCC, ORG_NAME, f("category", "机构类别"), f("grade", "医院等级"), LOCATION,
      f("beds", "编制床位", INT), f("departments", "诊疗科目"))),
    ("health", ("2", "02", "002"), "执业医师注册信息", "Registered physicians",
     Domain.HEALTH, U, "", OpenType.CONDITIONAL, UpdateCycle.MONTHLY, ResourceFormat.DATABASE,
     ("医师", "执业注册"),
     "医师的执业类别、执业范围、执业地点和注册状态。",
     (NAME, f("certificate_no", "执业证书编码"), f("practice_type", "执业类别"),
      f("scope", "执业范围"), ORG_NAME)),
    ("health", ("1", "05", "001"), "出生医学证明信息", "Birth certificates",
     Domain.POPULATION, C, "用于新生儿落户、医保参保和一件事联办", OpenType.CLOSED,
     UpdateCycle.DAILY, ResourceFormat.API, ("出生", "新生儿", "一件事"),
     "新生儿姓名、性别、出生时间、出生地点和父母身份信息。",
     (NAME, f("gender", "性别"), f("born_at", "出生时间", DT, IMP),
      f("mother_name", "母亲姓名", S, IMP), FieldSpec("mother_id_number", "母亲公民身份号码",
      DataType.CITIZEN_ID, CORE, Masking.ID_NUMBER, True), ORG_NAME)),
    ("health", ("2", "02", "003"), "预防接种记录", "Vaccination records",
     Domain.HEALTH, C, "用于入托入学查验，须监护人授权", OpenType.CLOSED,
     UpdateCycle.DAILY, ResourceFormat.API, ("疫苗", "接种", "儿童"),
     "儿童预防接种的疫苗名称、剂次、接种日期和接种单位。",
     (NAME, ID_NUMBER, f("vaccine", "疫苗名称"), f("dose", "剂次", INT),
      f("vaccinated_on", "接种日期", D, IMP))),
    ("civil-affairs", ("1", "05", "002"), "婚姻登记信息", "Marriage registrations",
     Domain.POPULATION, C, "用于住房保障、公积金提取等业务的婚姻状况核验", OpenType.CLOSED,
     UpdateCycle.DAILY, ResourceFormat.API, ("婚姻", "结婚登记"),
     "结婚、离婚登记的双方身份信息、登记日期和登记机关。",
     (NAME, ID_NUMBER, f("partner_name", "配偶姓名", S, IMP), f("kind", "登记类型"),
      f("registered_on", "登记日期", D))),
    ("civil-affairs", ("2", "03", "001"), "最低生活保障对象信息", "Minimum living allowance",
     Domain.SOCIAL_SECURITY, C, "用于社会救助联动和费用减免，限救助业务使用", OpenType.CLOSED,
     UpdateCycle.MONTHLY, ResourceFormat.DATABASE, ("低保", "社会救助"),
     "城乡低保对象的户主、保障人数、保障金额和所属街道。",
     (NAME, ID_NUMBER, ADDRESS, f("members", "保障人数", INT),
      f("monthly_amount", "月保障金额", DataType.DECIMAL, IMP), BANK_CARD, DISTRICT)),
    ("civil-affairs", ("2", "03", "002"), "养老机构信息", "Care homes",
     Domain.SOCIAL_SECURITY, U, "", OpenType.OPEN, UpdateCycle.QUARTERLY,
     ResourceFormat.DATABASE, ("养老", "养老机构"),
     "养老机构的名称、地址、床位数、收费标准和联系电话。",
     (USCC, ORG_NAME, LOCATION, f("beds", "床位数", INT), LANDLINE)),
    ("civil-affairs", ("1", "02", "003"), "社会组织登记信息", "Social organisations",
     Domain.LEGAL_ENTITY, U, "", OpenType.OPEN, UpdateCycle.MONTHLY, ResourceFormat.DATABASE,
     ("社会组织", "社团"),
     "社会团体、民办非企业单位和基金会的登记信息。",
     (USCC, ORG_NAME, f("kind", "组织类型"), f("registered_on", "成立登记日期", D))),
    ("social-security", ("2", "03", "003"), "社会保险参保信息", "Social insurance enrolment",
     Domain.SOCIAL_SECURITY, C, "用于人才引进、落户积分和待遇资格核验", OpenType.CLOSED,
     UpdateCycle.MONTHLY, ResourceFormat.API, ("社保", "参保", "养老保险"),
     "职工和城乡居民的参保险种、参保状态、缴费月数和参保单位。",
     (NAME, ID_NUMBER, f("insurance", "险种"), f("status", "参保状态"),
      f("months_paid", "累计缴费月数", INT, IMP), USCC)),
    ("social-security", ("2", "03", "004"), "就业登记信息", "Employment registrations",
     Domain.SOCIAL_SECURITY, C, "用于就业补贴和失业保险核验", OpenType.CLOSED,
     UpdateCycle.MONTHLY, ResourceFormat.DATABASE, ("就业", "失业"),
     "劳动者的就业、失业登记和用工单位信息。",
     (NAME, ID_NUMBER, MOBILE, USCC, f("status", "就业状态"), f("since", "登记日期", D))),
    ("social-security", ("1", "05", "003"), "职业资格证书信息", "Vocational certificates",
     Domain.LICENCES, U, "", OpenType.CONDITIONAL, UpdateCycle.MONTHLY,
     ResourceFormat.DATABASE, ("职业资格", "电子证照"),
     "职业资格和职业技能等级证书的证书编号、职业名称、等级和发证日期。",
     (NAME, f("certificate_no", "证书编号"), f("occupation", "职业名称"), f("grade", "等级"),
      f("issued_on", "发证日期", D))),
    ("education", ("2", "01", "001"), "中小学校基本信息", "Schools",
     Domain.EDUCATION, U, "", OpenType.OPEN, UpdateCycle.YEARLY, ResourceFormat.DATABASE,
     ("学校", "义务教育"),
     "中小学校的名称、办学类型、学段、地址、学区和在校生规模。",
     (USCC, ORG_NAME, f("kind", "办学类型"), f("stage", "学段"), LOCATION,
      f("students", "在校生数", INT))),
    ("education", ("2", "01", "002"), "中小学生学籍信息", "Pupil records",
     Domain.EDUCATION, C, "用于入学资格审核和教育资助，须经教育局审批", OpenType.CLOSED,
     UpdateCycle.HALF_YEARLY, ResourceFormat.DATABASE, ("学籍", "学生"),
     "学生的学籍号、就读学校、年级、入学日期和监护人联系方式。",
     (NAME, ID_NUMBER, f("student_no", "全国学籍号", S, IMP), ORG_NAME,
      f("grade", "年级"), MOBILE)),
    ("education", ("1", "05", "004"), "教师资格证信息", "Teacher certificates",
     Domain.LICENCES, U, "", OpenType.CONDITIONAL, UpdateCycle.MONTHLY,
     ResourceFormat.DATABASE, ("教师资格", "电子证照"),
     "教师资格证书编号、资格种类、任教学科和认定日期。",
     (NAME, f("certificate_no", "证书编号"), f("kind", "资格种类"), f("subject", "任教学科"))),
    ("transport", ("2", "04", "001"), "公交线路与站点", "Bus routes and stops",
     Domain.TRANSPORT, U, "", OpenType.OPEN, UpdateCycle.MONTHLY, ResourceFormat.DATABASE,
     ("公交", "出行"),
     "公交线路、站点位置、首末班时间和票价。",
     (f("route_id", "线路编号"), f("route_name", "线路名称"), f("stop_name", "站点名称"),
      LOCATION, f("first_bus", "首班时间"), f("last_bus", "末班时间"))),
    ("transport", ("2", "04", "002"), "网约车运营车辆信息", "Ride-hailing vehicles",
     Domain.TRANSPORT, C, "用于营运车辆监管和交通执法", OpenType.CLOSED, UpdateCycle.DAILY,
     ResourceFormat.API, ("网约车", "营运车辆", "机动车"),
     "取得运输证的网约车车辆、平台公司和驾驶员信息。",
     (PLATE, f("permit_no", "道路运输证号"), USCC, NAME, MOBILE)),
    ("transport", ("2", "04", "003"), "道路运输经营许可信息", "Road transport permits",
     Domain.TRANSPORT, U, "", OpenType.OPEN, UpdateCycle.WEEKLY, ResourceFormat.DATABASE,
     ("道路运输", "许可"),
     "道路客货运输经营者的许可证号、经营范围和有效期。",
     (USCC, ORG_NAME, f("permit_no", "许可证号"), f("scope", "经营范围"),
      f("valid_until", "有效期至", D))),
    ("transport", ("2", "04", "004"), "道路实时路况", "Live road traffic",
     Domain.TRANSPORT, U, "", OpenType.OPEN, UpdateCycle.REALTIME, ResourceFormat.STREAM,
     ("路况", "拥堵", "实时"),
     "主要道路路段的平均车速、拥堵指数和事件，每分钟更新。",
     (f("segment_id", "路段编号"), LOCATION, f("speed_kmh", "平均车速", DataType.DECIMAL),
      f("congestion_index", "拥堵指数", DataType.DECIMAL), f("observed_at", "观测时间", DT))),
    ("urban-management", ("1", "03", "001"), "城市部件普查数据", "City components census",
     Domain.URBAN, U, "", OpenType.OPEN, UpdateCycle.YEARLY, ResourceFormat.DATABASE,
     ("数字城管", "部件", "网格"),
     "按 GB/T 30428 普查的井盖、路灯、垃圾箱等城市部件及其所在单元网格。",
     (f("component_id", "部件标识码"), f("major_class", "大类"), f("sub_class", "小类"),
      LOCATION, f("grid_code", "单元网格编码"))),
    ("urban-management", ("2", "05", "001"), "城市管理案件信息", "City management cases",
     Domain.URBAN, C, "用于联动处置和考核评价，限相关处置部门", OpenType.CONDITIONAL,
     UpdateCycle.REALTIME, ResourceFormat.API, ("数字城管", "案件", "12345"),
     "数字城管和 12345 热线受理的案件：类别、位置、立案、派遣、处置和结案时间。",
     (f("case_id", "案件编号"), f("category", "案件类别"), LOCATION,
      f("reporter_mobile", "上报人电话", DataType.MOBILE, IMP), f("status", "案件状态"))),
    ("urban-management", ("2", "05", "002"), "环卫作业车辆轨迹", "Sanitation vehicle tracks",
     Domain.URBAN, U, "", OpenType.CLOSED, UpdateCycle.REALTIME, ResourceFormat.STREAM,
     ("环卫", "车辆", "轨迹"),
     "清扫、洒水和垃圾清运车辆的实时位置与作业状态。",
     (PLATE, LOCATION, f("speed_kmh", "速度", DataType.DECIMAL), f("observed_at", "时间", DT))),
    ("emergency", ("2", "06", "001"), "应急避难场所信息", "Emergency shelters",
     Domain.EMERGENCY, U, "", OpenType.OPEN, UpdateCycle.YEARLY, ResourceFormat.DATABASE,
     ("应急", "避难场所"),
     "应急避难场所的名称、类型、位置、面积和可容纳人数。",
     (f("shelter_name", "场所名称"), f("kind", "场所类型"), LOCATION,
      f("capacity", "容纳人数", INT))),
    ("emergency", ("2", "06", "002"), "危险化学品企业信息", "Hazardous chemicals enterprises",
     Domain.EMERGENCY, C, "用于安全生产监管和应急救援，不对外开放", OpenType.CLOSED,
     UpdateCycle.QUARTERLY, ResourceFormat.DATABASE, ("危化品", "安全生产", "重大危险源"),
     "危险化学品生产、储存企业的位置、品种、储量和重大危险源等级。",
     (USCC, ORG_NAME, LOCATION, f("chemicals", "危险化学品品种", S, IMP),
      f("hazard_grade", "重大危险源等级", S, CORE))),
)  # fmt: skip


def provider_code(city_code: str, dept_id: str) -> str:
    """Return a department's demo unified social credit code (机关: 11 + region + org code)."""
    number = DEPT_NO.get(dept_id, "99")
    first17 = f"11{city_code[:6]:0<6}MB00{number}{len(dept_id):03d}"[:17]
    return first17 + uscc_check_char(first17)


def demo_specs(city_code: str) -> list[ResourceSpec]:
    """Return the demo catalogue's resources as specs."""
    specs = []
    for (dept, (cat, item, group), zh, en, domain, sharing, condition, open_type, cycle, fmt,
         tags, abstract, fields) in RESOURCES:  # fmt: skip
        specs.append(
            ResourceSpec(
                classification=Classification(cat, item, group),
                name_zh=zh,
                name_en=en,
                department_id=dept,
                provider_code=provider_code(city_code, dept),
                abstract=abstract,
                format=fmt,
                fields=fields,
                sharing_type=sharing,
                domain=domain,
                update_cycle=cycle,
                sharing_condition=condition,
                sharing_methods=() if sharing is N else (SharingMethod.API,),
                open_type=open_type,
                tags=tags,
            )
        )
    return specs


async def seed_demo_catalog(catalog: CatalogService, city_code: str) -> int:
    """Publish whatever of the demo catalogue is missing; return how many were published."""
    ctx = Context.system("demo-seed")
    found = catalog.search(ctx, SearchQuery(limit=1000, include_withdrawn=True))
    have = {(h.resource.department_id, h.resource.spec.name_zh) for h in found.hits}
    made = 0
    for spec in demo_specs(city_code):
        if (spec.department_id, spec.name_zh) not in have:
            await catalog.publish(ctx, spec, "演示城市初始目录 / demo seed")
            made += 1
    return made
