"""Attribution and caveats that travel with every response that shows the data."""

from app.geo.approximate import NOTE as APPROXIMATE_NOTE

COD_AB = (
    "Boundaries and names: OCHA COD-AB Libya (UNITAR-UNOSAT, Libyan Bureau of Statistics), "
    "via HDX, CC BY 3.0 IGO. They do not imply official endorsement or acceptance by the UN."
)
DTM = "Displacement figures: IOM Displacement Tracking Matrix (DTM) Libya."
HNO_2021 = "Population denominators: OCHA Libya HNO 2021 (via HDX)."

__all__ = ["APPROXIMATE_NOTE", "COD_AB", "DTM", "HNO_2021"]
