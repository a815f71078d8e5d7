"""The report's words in English and Arabic, and numbers and dates as the page writes them.

Numbers follow the web page's `fmt` (app/static/app.js: Intl with "en" or "ar-LY", which
gives Latin digits, and in Arabic "." for thousands and "," for decimals).
"""

from __future__ import annotations

from datetime import date

MONTHS = {
    "en": [
        *("January", "February", "March", "April", "May", "June", "July", "August"),
        *("September", "October", "November", "December"),
    ],
    "ar": [
        *("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس"),
        *("سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"),
    ],
}
DASH = "\u2013"  # an en dash: ranges, and a figure that is not given

WORDS = {
    "en": {
        "report": "Round report",
        "round": "Round",
        "dtm": "Displacement Tracking Matrix",
        "period": "Data collection",
        "reported": "Reporting date",
        "key_figures": "Key figures",
        "individuals": "Individuals",
        "households": "Households",
        "change": "Change since {round}",
        "no_previous": "No earlier round of this kind has this figure.",
        "not_whole": "not a total: some areas only",
        "coverage": "Coverage",
        "covered": "{type}: {n} of {m} {areas} assessed",
        "partial": "This round is partial: its figures cover only some areas, and their sum "
        "is not a total.",
        "maps": "Maps",
        "missing": "{type}: this round has no figures, so no map is drawn.",
        "top": "Top {n} {areas}: {type}",
        "area": "Area",
        "in": "In",
        "movers": "Top movers since {round}",
        "before": "Before",
        "after": "After",
        "no_movers": "No change by {area} can be given: {round} has no figures at that level.",
        "series": "National series",
        "series_note": "Totals of {operation} by round ({kind}), as published.",
        "indicators": "Indicators",
        "indicators_more": "{n} more indicators are given by GET /api/v1/indicators.",
        "timeline": "Event timeline",
        "methodology": "Methodology",
        "method": "Figures are IOM DTM's published figures. A value of an area is its stored "
        "figure, or the sum of the level below when it has none of its own, without double "
        "counting; a sum of only some of the areas below is marked as not complete. Change "
        "is measured against the previous round of the same kind.",
        "sources": "Sources and quality",
        "quality": "Quality of the figures",
        "published": "published",
        "modelled": "modelled",
        "synthetic": "synthetic",
        "credit": "Credit",
        "idp": "IDPs",
        "returnee": "Returnees",
        "migrant": "Migrants",
        "mobility_tracking": "mobility tracking",
        "flash_update": "flash update",
        "event_tracking": "event tracking",
        "value": "Value",
        "topic": "Topic",
        "indicator": "Indicator",
        "all_types": "all",
        "date": "Date",
        "figure": "Figure",
    },
    "ar": {
        "report": "تقرير الجولة",
        "round": "الجولة",
        "dtm": "مصفوفة تتبع النزوح",
        "period": "جمع البيانات",
        "reported": "تاريخ الإبلاغ",
        "key_figures": "الأرقام الرئيسية",
        "individuals": "الأفراد",
        "households": "الأسر",
        "change": "التغير منذ {round}",
        "no_previous": "لا توجد جولة سابقة من هذا النوع بهذا الرقم.",
        "not_whole": "ليس إجمالياً: بعض المناطق فقط",
        "coverage": "التغطية",
        "covered": "{type}: شمل التقييم {n} من {m} {areas}",
        "partial": "هذه الجولة جزئية: لا تغطي أرقامها إلا بعض المناطق، ومجموعها ليس إجمالياً.",
        "maps": "الخرائط",
        "missing": "{type}: لا توجد أرقام في هذه الجولة، فلا تُرسم خريطة.",
        "top": "أعلى {n} {areas}: {type}",
        "area": "المنطقة",
        "in": "تتبع",
        "movers": "أكبر التغيرات منذ {round}",
        "before": "قبل",
        "after": "بعد",
        "no_movers": "لا يمكن عرض التغير حسب {area}: لا توجد في {round} أرقام بهذا المستوى.",
        "series": "السلسلة الوطنية",
        "series_note": "مجاميع {operation} حسب الجولة ({kind})، كما نُشرت.",
        "indicators": "المؤشرات",
        "indicators_more": "{n} مؤشراً آخر متاحة عبر GET /api/v1/indicators.",
        "timeline": "التسلسل الزمني للحدث",
        "methodology": "المنهجية",
        "method": "الأرقام هي الأرقام المنشورة لمصفوفة تتبع النزوح التابعة للمنظمة الدولية "
        "للهجرة. قيمة المنطقة هي رقمها المخزّن، أو مجموع المستوى الأدنى إن لم يكن لها رقم، دون "
        "عدّ مزدوج؛ ويُعلَّم مجموع بعض المناطق الأدنى فقط بأنه غير مكتمل. يُقاس التغير مقارنةً "
        "بالجولة السابقة من النوع نفسه.",
        "sources": "المصادر والجودة",
        "quality": "جودة الأرقام",
        "published": "منشور",
        "modelled": "مقدّر بنموذج",
        "synthetic": "اصطناعي",
        "credit": "الإسناد",
        "idp": "النازحون داخلياً",
        "returnee": "العائدون",
        "migrant": "المهاجرون",
        "mobility_tracking": "جولات تتبع التنقل",
        "flash_update": "تحديث عاجل",
        "event_tracking": "تتبع حدث",
        "value": "القيمة",
        "topic": "الموضوع",
        "indicator": "المؤشر",
        "all_types": "الكل",
        "date": "التاريخ",
        "figure": "الرقم",
    },
}

_ARABIC_SEPARATORS = str.maketrans({",": ".", ".": ","})


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """As the page's `fmt`: en 12,345.6; ar-LY 12.345,6 (Latin digits)."""
    if value is None:
        return DASH
    text = f"{value:,.{digits}f}"
    if digits and "." in text:
        text = text.rstrip("0").rstrip(".")  # Intl's maximumFractionDigits drops zeros
    return text.translate(_ARABIC_SEPARATORS) if lang == "ar" else text


def signed(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return DASH
    return ("+" if value > 0 else "") + number(value, lang, digits)


def day(value: date | None, lang: str) -> str:
    if value is None:
        return DASH
    return f"{value.day} {MONTHS[lang][value.month - 1]} {value.year}"
