"""Arabic names of the nationalities DTM Libya reports for migrants.

Keyed by the English name as the source spells it (DTM's nationality column); a name
missing here has no Arabic form in the API (`nationality_ar` is null) and the web map
shows the English one.
"""

from __future__ import annotations

ARABIC = {
    "Algeria": "الجزائر",
    "Bangladesh": "بنغلاديش",
    "Benin": "بنين",
    "Burkina Faso": "بوركينا فاسو",
    "Cameroon": "الكاميرون",
    "Central African Republic": "جمهورية أفريقيا الوسطى",
    "Chad": "تشاد",
    "Côte d'Ivoire": "كوت ديفوار",
    "Egypt": "مصر",
    "Eritrea": "إريتريا",
    "Ethiopia": "إثيوبيا",
    "Gambia": "غامبيا",
    "Ghana": "غانا",
    "Guinea": "غينيا",
    "Guinea-Bissau": "غينيا بيساو",
    "India": "الهند",
    "Iraq": "العراق",
    "Jordan": "الأردن",
    "Kenya": "كينيا",
    "Lebanon": "لبنان",
    "Liberia": "ليبيريا",
    "Mali": "مالي",
    "Mauritania": "موريتانيا",
    "Morocco": "المغرب",
    "Niger": "النيجر",
    "Nigeria": "نيجيريا",
    "Other": "أخرى",
    "Pakistan": "باكستان",
    "Palestine": "فلسطين",
    "Philippines": "الفلبين",
    "Senegal": "السنغال",
    "Sierra Leone": "سيراليون",
    "Somalia": "الصومال",
    "South Sudan": "جنوب السودان",
    "Sudan": "السودان",
    "Syria": "سوريا",
    "Togo": "توغو",
    "Tunisia": "تونس",
    "Uganda": "أوغندا",
    "Unknown": "غير معروف",
    "Yemen": "اليمن",
}


def arabic(nationality: str) -> str | None:
    return ARABIC.get(nationality)
