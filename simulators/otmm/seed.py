"""The demo data set: campaigns in every status, nested folders, every configured field.

Deterministic: the same campaigns, folders, ids, sizes and bytes on every run (every date is
given explicitly, ids come from a counter). Field IDs come from ``config/dam_fields.toml``;
sample values are picked by the last segment of a field id (``….SUB BRAND`` → a sub-brand),
so every configured MVP field gets a sensible value whatever its full id.

| number     | status | type        | content                                                          |
|------------|--------|-------------|------------------------------------------------------------------|
| C000000072 | A6     | Local comm  | 1 final asset NOT APPROVED                                       |
| C000000073 | A5     | Local comm  | finals: NOT APPROVED ×2 (one nested), APPROVED, empty status     |
| C000000074 | A4     | Local comm  | 1 master, 1 final                                                |
| C000000075 | A3     | Local comm  | 1 master, 2 localised finals                                     |
| C000000076 | A2     | Local comm  | 2 masters                                                        |
| C000000078 | A1     | Local comm  | 5 masters, sub-folders 2 levels deep                             |
| C000000079 | A1     | Local comm  | 5 masters, sub-folders 2 levels deep                             |
| C000000080 | A1     | Local comm  | empty Master Assets                                              |
| C000000081 | A1     | Local comm  | name ``Summer/Winter \\ Launch`` (characters Box forbids), 3 masters |
| C000000090 | B1     | Global comm | 3 final masters, nested                                          |
| C000000091 | B1     | Global comm | 2 final masters                                                  |
| C000000092 | B1     | Local comm  | 1 final asset (not a global campaign: B1→B2 must skip it)        |
| C000000093 | B2     | Global comm | 1 final master                                                   |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.otmm import OtmmSimulator, SeededCampaign

KB = 1000

_SAMPLES: dict[str, Any] = {
    "BRAND": "Nutty", "SUB BRAND": "Nutty Crunch", "PRODUCT": "Hazelnut bar 45 g", "PRODUCT CATEGORY": "Confectionery",
    "REGION": "EMEA", "STATE": "Lombardia", "CHANNEL": "Social", "ASSET TYPE": "Key visual", "FORMAT": "Digital",
    "DIMENSIONS": "1080x1080", "DURATION": "00:00:00", "AGENCY": "Studio Nord", "USAGE RIGHTS": "Worldwide, 12 months",
    "RIGHTS EXPIRATION DATE": "2027-06-30T00:00:00Z", "COPYRIGHT": "© 2026 Nutty S.p.A.", "SEASON": "Spring",
    "YEAR": 2026, "TARGET AUDIENCE": "Families", "BUSINESS UNIT": "Sweets", "KEYWORDS": "hazelnut; launch; spring",
    "GLOBAL CAMPAIGN NUMBER": None,  # local campaigns: present but empty
}


def _suffix(field_id: str) -> str:
    return field_id.rsplit(".", 1)[-1].upper()


def master_fields(sim: OtmmSimulator, campaign: SeededCampaign, description: str, **overrides: Any
                  ) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """(scalar fields, domain fields) for a master asset: every MVP field of the config.

    Country and language are domain (lookup) fields; the master tracking id is present but empty
    (masters have none). ``overrides`` replace sample values by field-id suffix (``DURATION=…``).
    """
    f = sim.fields
    samples = {**_SAMPLES, **{k.replace("_", " ").upper(): v for k, v in overrides.items()}}
    scalars: dict[str, Any] = {}
    for field_id in f.mvp.fields:
        scalars[field_id] = samples.get(_suffix(field_id), f"Demo {_suffix(field_id).title()}")
    scalars.update({f.campaign.number: campaign.number, f.campaign.name: campaign.name,
                    f.asset.description: description, f.asset.master_tracking_id: None})
    scalars[f.asset.brand] = samples["BRAND"]
    scalars[f.asset.state] = samples["STATE"]
    country = samples.get("COUNTRY", ("IT", "Italy"))
    language = samples.get("LANGUAGE", ("it-IT", "Italian (Italy)"))
    for field_id in (f.asset.country, f.asset.language):
        scalars.pop(field_id, None)
    return scalars, {f.asset.country: country, f.asset.language: language}


def _creativex(sim: OtmmSimulator, score: int, slug: str) -> tuple[dict[str, Any], dict[str, dict[str, list[Any]]]]:
    cx = sim.fields.creativex
    return ({cx.url: f"https://app.creativex.example/preflight/{slug}"}, {cx.table: {cx.score: [score]}})


def _add(sim: OtmmSimulator, folder_id: str, campaign: SeededCampaign, name: str, size: int, mime: str,
         created: str, creativex: int | None = None, extra: dict[str, Any] | None = None,
         **overrides: Any) -> str:
    scalars, domains = master_fields(sim, campaign, name.rsplit(".", 1)[0].replace("_", " "), **overrides)
    tables: dict[str, dict[str, list[Any]]] = {}
    if creativex is not None:
        url, tables = _creativex(sim, creativex, name.rsplit(".", 1)[0].lower())
        scalars.update(url)
    scalars.update(extra or {})
    return sim.add_asset(folder_id, name, size=size, mime_type=mime, fields=scalars, domain_fields=domains,
                         tables=tables, created=created)


def _review(sim: OtmmSimulator, ecommerce: str | None, approver: str | None = None, legal: str | None = None,
            iacc: str | None = None, date: str = "2026-01-20T14:30:00Z") -> dict[str, Any]:
    """The 10 rejection fields: status plus comments/certifier/date per reviewer."""
    r = sim.fields.rejection
    if ecommerce is None:
        return {r.ecommerce_status: None}
    return {
        r.ecommerce_status: ecommerce,
        r.approver_comments: approver, r.approver_certifier: "Anna Rossi", r.approver_date: date,
        r.legal_comments: legal, r.legal_certifier: "Marco Bianchi", r.legal_date: date,
        r.iacc_comments: iacc, r.iacc_certifier: "Giulia Verdi", r.iacc_date: date,
    }


def seed_demo(sim: OtmmSimulator) -> dict[str, SeededCampaign]:
    """Seed the demo campaigns (see the module docstring); returns them by number."""
    f = sim.fields
    out: dict[str, SeededCampaign] = {}

    def campaign(number: str, name: str, status: str, kind: str, created: str) -> SeededCampaign:
        out[number] = sim.add_campaign(number, name, status, kind, created=created)
        return out[number]

    # -- A6 / A5: reviews done ---------------------------------------------------------------
    c = campaign("C000000072", "Halloween Night", "A6", "Local comm", "2025-08-01T09:00:00Z")
    _add(sim, c.final_assets_id, c, "K7M2QX_Pumpkin banner_it-IT_Lazio.jpg", 640 * KB, "image/jpeg",
         "2025-08-20T09:00:00Z", extra=_review(sim, "NOT APPROVED", "Colours off-brand", None, None))

    c = campaign("C000000073", "Christmas Magic", "A5", "Local comm", "2025-09-01T09:00:00Z")
    _add(sim, c.master_assets_id, c, "xmas_key_visual.jpg", 2400 * KB, "image/jpeg", "2025-09-01T10:00:00Z",
         creativex=81)
    web = sim.add_folder(c.final_assets_id, "Web", created="2025-09-10T09:00:00Z")
    banners = sim.add_folder(web, "Banners", created="2025-09-10T09:00:00Z")
    _add(sim, c.final_assets_id, c, "R8T3WZ_Xmas hero_it-IT_Lazio.jpg", 1900 * KB, "image/jpeg",
         "2025-09-12T09:00:00Z", creativex=64,
         extra={**_review(sim, "NOT APPROVED", "Logo too small on the mobile crop",
                          "The claim 'best hazelnut' needs substantiation", "Allergen line missing"),
                f.asset.master_tracking_id: "R8T3WZ"})
    _add(sim, banners, c, "R8T3WZ_Xmas leaderboard_de-DE_Bayern.png", 450 * KB, "image/png",
         "2025-09-12T09:05:00Z",
         extra={**_review(sim, "NOT APPROVED", None, "Price promise not allowed in DE", None),
                f.asset.master_tracking_id: "R8T3WZ"}, country=("DE", "Germany"), language=("de-DE", "German"))
    _add(sim, c.final_assets_id, c, "R8T3WZ_Xmas hero_fr-FR_Ile-de-France.jpg", 1850 * KB, "image/jpeg",
         "2025-09-12T09:10:00Z", creativex=90,
         extra={**_review(sim, "APPROVED"), f.asset.master_tracking_id: "R8T3WZ"},
         country=("FR", "France"), language=("fr-FR", "French"))
    _add(sim, web, c, "R8T3WZ_Xmas story_es-ES_Madrid.mp4", 2900 * KB, "video/mp4", "2025-09-12T09:15:00Z",
         extra={**_review(sim, None), f.asset.master_tracking_id: "R8T3WZ"}, duration="00:00:15",
         country=("ES", "Spain"), language=("es-ES", "Spanish"))

    # -- A4 / A3 / A2 ------------------------------------------------------------------------
    c = campaign("C000000074", "Back to School", "A4", "Local comm", "2025-10-01T09:00:00Z")
    _add(sim, c.master_assets_id, c, "school_kv.jpg", 1500 * KB, "image/jpeg", "2025-10-01T10:00:00Z")
    _add(sim, c.final_assets_id, c, "M4N6PB_School kv_it-IT_Lazio.jpg", 1450 * KB, "image/jpeg",
         "2025-10-15T10:00:00Z", extra={**_review(sim, "APPROVED"), f.asset.master_tracking_id: "M4N6PB"})

    c = campaign("C000000075", "Valentine Hearts", "A3", "Local comm", "2025-11-10T09:00:00Z")
    _add(sim, c.master_assets_id, c, "valentine_kv.png", 1200 * KB, "image/png", "2025-11-10T10:00:00Z",
         creativex=77)
    _add(sim, c.final_assets_id, c, "H9J3KD_Valentine kv_it-IT_Lazio.png", 1150 * KB, "image/png",
         "2025-11-20T10:00:00Z", creativex=79, extra={f.asset.master_tracking_id: "H9J3KD"})
    _add(sim, c.final_assets_id, c, "H9J3KD_Valentine kv_de-DE_Bayern.png", 1180 * KB, "image/png",
         "2025-11-20T10:05:00Z", extra={f.asset.master_tracking_id: "H9J3KD"},
         country=("DE", "Germany"), language=("de-DE", "German"))

    c = campaign("C000000076", "Easter Eggs", "A2", "Local comm", "2025-12-01T09:00:00Z")
    _add(sim, c.master_assets_id, c, "easter_kv.jpg", 2200 * KB, "image/jpeg", "2025-12-01T10:00:00Z", creativex=85)
    social = sim.add_folder(c.master_assets_id, "Social", created="2025-12-01T09:00:00Z")
    _add(sim, social, c, "easter_post.png", 700 * KB, "image/png", "2025-12-01T10:05:00Z")

    # -- A1: what the a1-to-a2 flow picks up ----------------------------------------------------
    c = campaign("C000000078", "Spring Launch", "A1", "Local comm", "2026-01-05T10:00:00Z")
    social = sim.add_folder(c.master_assets_id, "Social", created="2026-01-05T10:00:00Z")
    stories = sim.add_folder(social, "Stories", created="2026-01-05T10:00:00Z")
    print_ = sim.add_folder(c.master_assets_id, "Print", created="2026-01-05T10:00:00Z")
    large = sim.add_folder(print_, "Large format", created="2026-01-05T10:00:00Z")
    _add(sim, c.master_assets_id, c, "hero_key_visual.jpg", 2900 * KB, "image/jpeg", "2026-01-05T10:01:00Z",
         creativex=85)
    _add(sim, social, c, "post_square.png", 850 * KB, "image/png", "2026-01-05T10:02:00Z", creativex=72)
    _add(sim, social, c, "post_landscape.png", 920 * KB, "image/png", "2026-01-05T10:03:00Z")
    _add(sim, stories, c, "story_15s.mp4", 3000 * KB, "video/mp4", "2026-01-05T10:04:00Z", duration="00:00:15",
         dimensions="1080x1920")
    _add(sim, large, c, "poster_A0.pdf", 1800 * KB, "application/pdf", "2026-01-05T10:05:00Z", format="Print",
         dimensions="841x1189 mm")

    c = campaign("C000000079", "Autumn Treats", "A1", "Local comm", "2026-01-12T10:00:00Z")
    web = sim.add_folder(c.master_assets_id, "Web", created="2026-01-12T10:00:00Z")
    mobile = sim.add_folder(web, "Mobile", created="2026-01-12T10:00:00Z")
    video = sim.add_folder(c.master_assets_id, "Video", created="2026-01-12T10:00:00Z")
    cutdowns = sim.add_folder(video, "Cutdowns", created="2026-01-12T10:00:00Z")
    _add(sim, c.master_assets_id, c, "autumn_kv.tif", 2500 * KB, "image/tiff", "2026-01-12T10:01:00Z",
         creativex=91, season="Autumn")
    _add(sim, web, c, "banner_728x90.gif", 120 * KB, "image/gif", "2026-01-12T10:02:00Z", season="Autumn",
         dimensions="728x90")
    _add(sim, mobile, c, "banner_320x50.png", 100 * KB, "image/png", "2026-01-12T10:03:00Z", season="Autumn",
         dimensions="320x50")
    _add(sim, video, c, "tvc_30s.mov", 3000 * KB, "video/quicktime", "2026-01-12T10:04:00Z", season="Autumn",
         duration="00:00:30", dimensions="1920x1080")
    _add(sim, cutdowns, c, "tvc_6s.mp4", 900 * KB, "video/mp4", "2026-01-12T10:05:00Z", season="Autumn",
         duration="00:00:06", dimensions="1920x1080")

    campaign("C000000080", "Nothing Yet", "A1", "Local comm", "2026-01-20T10:00:00Z")

    c = campaign("C000000081", "Summer/Winter \\ Launch", "A1", "Local comm", "2026-01-25T10:00:00Z")
    web = sim.add_folder(c.master_assets_id, "Web", created="2026-01-25T10:00:00Z")
    banners = sim.add_folder(web, "Banners", created="2026-01-25T10:00:00Z")
    _add(sim, c.master_assets_id, c, "summer_winter_kv.jpg", 1600 * KB, "image/jpeg", "2026-01-25T10:01:00Z",
         season="Summer/Winter")
    _add(sim, web, c, "landing_hero.jpg", 800 * KB, "image/jpeg", "2026-01-25T10:02:00Z", season="Summer/Winter")
    _add(sim, banners, c, "leaderboard_970x250.png", 300 * KB, "image/png", "2026-01-25T10:03:00Z",
         season="Summer/Winter", dimensions="970x250")

    # -- B1 / B2: global campaigns (B1→B2 walks Final Assets) ----------------------------------
    c = campaign("C000000090", "Global Brand Refresh", "B1", "Global comm", "2026-01-08T10:00:00Z")
    tv = sim.add_folder(c.final_assets_id, "TV", created="2026-01-08T10:00:00Z")
    cuts = sim.add_folder(tv, "Cutdowns", created="2026-01-08T10:00:00Z")
    _add(sim, c.final_assets_id, c, "global_kv.jpg", 2800 * KB, "image/jpeg", "2026-01-08T10:01:00Z", creativex=88,
         global_campaign_number="C000000090")
    _add(sim, tv, c, "global_tvc_30s.mp4", 3000 * KB, "video/mp4", "2026-01-08T10:02:00Z", duration="00:00:30",
         global_campaign_number="C000000090")
    _add(sim, cuts, c, "global_tvc_15s.mp4", 1700 * KB, "video/mp4", "2026-01-08T10:03:00Z", duration="00:00:15",
         global_campaign_number="C000000090")

    c = campaign("C000000091", "Global Summer", "B1", "Global comm", "2026-01-15T10:00:00Z")
    _add(sim, c.final_assets_id, c, "summer_global_kv.png", 1300 * KB, "image/png", "2026-01-15T10:01:00Z",
         global_campaign_number="C000000091")
    _add(sim, c.final_assets_id, c, "summer_global_guidelines.pdf", 600 * KB, "application/pdf",
         "2026-01-15T10:02:00Z", global_campaign_number="C000000091")

    c = campaign("C000000092", "Local Sampling", "B1", "Local comm", "2026-01-10T10:00:00Z")
    _add(sim, c.final_assets_id, c, "sampling_flyer.pdf", 400 * KB, "application/pdf", "2026-01-10T10:01:00Z")

    c = campaign("C000000093", "Global Winter", "B2", "Global comm", "2025-12-15T10:00:00Z")
    _add(sim, c.final_assets_id, c, "winter_global_kv.jpg", 2000 * KB, "image/jpeg", "2025-12-15T10:01:00Z",
         global_campaign_number="C000000093")
    return out
