"""Place rows: find or create the row for a reverse-geocoded name (shared by import and edits)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Place
from photodesk.core.catalog.types import PlaceName


def place_id_for(s: Session, name: PlaceName) -> int:
    """The ``places`` row of a geocoded name, created when it is new."""
    place_id = s.scalar(
        select(Place.id).where(
            Place.city == name.city,
            Place.admin1 == name.admin1,
            Place.admin2 == name.admin2,
            Place.country_code == name.country_code,
        )
    )
    if place_id is None:
        place_id = s.execute(
            insert(Place)
            .values(
                city=name.city,
                admin1=name.admin1,
                admin2=name.admin2,
                country_code=name.country_code,
                country=name.country,
                latitude=name.latitude,
                longitude=name.longitude,
            )
            .returning(Place.id)
        ).scalar_one()
    return int(place_id)


def known_names(s: Session) -> list[tuple[str, str, str]]:
    """(city, admin1, country code) of every place in the catalog."""
    rows = s.execute(select(Place.city, Place.admin1, Place.country_code))
    return [(c, a, cc) for c, a, cc in rows]
