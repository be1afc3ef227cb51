from django import template

from catalog.filters import VERDICT_WORDS

register = template.Library()


@register.simple_tag
def plotly_js() -> str:
    """plotly.js's URL with its version: cached for a year (weblib.staticfinders.long_cache_for_vendor)."""
    from django.templatetags.static import static

    from weblib.staticfinders import plotly_version

    return f"{static('vendor/plotly.min.js')}?v={plotly_version()}"


@register.filter
def verdict(code: str) -> str:
    """A lip-sync verdict in words ("no_reliable_offset" -> "no reliable offset"); "" when not measured."""
    return VERDICT_WORDS.get(code, code or "")


@register.simple_tag
def sort_url(sort_query: str, current: str, key: str) -> str:
    """Link for a column header: sort by ``key`` ascending, or descending if it already is ascending."""
    direction = f"-{key}" if current == key else key
    prefix = f"?{sort_query}&" if sort_query else "?"
    return f"{prefix}sort={direction}"


@register.simple_tag
def sort_mark(current: str, key: str) -> str:
    return "▲" if current == key else ("▼" if current == f"-{key}" else "")


@register.filter
def percent(value) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


CLIP_PLACEHOLDER = 987654321  # stands for the clip id in URLs reversed once per page (dashboard.datasets)


@register.filter
def for_clip(pattern: str, pk: int) -> str:
    return pattern.replace(str(CLIP_PLACEHOLDER), str(pk))


@register.filter
def fixed(value, digits: int = 2) -> str:
    """``floatformat`` for plain floats, without its Decimal round trip (hundreds of cells a page); "" for None."""
    if value is None or value == "":
        return ""
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return ""


@register.filter
def speech_time(seconds) -> str:
    """Speech in a dataset: hours from one hour on, minutes below (0.01 h said nothing)."""
    seconds = float(seconds or 0)
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"
