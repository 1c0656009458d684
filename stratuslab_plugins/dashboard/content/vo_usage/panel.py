"""Project > Compute > Grid Usage: the usage of the user's VO.

The same page as Admin > Grid > Usage, where VO managers can reach it
(Horizon's Admin dashboard is for admins only). Shown to whom the usage
API's own policy shows more than his project
(:func:`stratuslab_plugins.dashboard.usage_policy.sees_vo_usage`): VO
managers and admins by default; the API filters the rows.
"""

from django.utils.translation import gettext_lazy as _
import horizon

from stratuslab_plugins.dashboard import usage_policy


class VOUsage(horizon.Panel):
    name = _("Grid Usage")
    slug = 'vo_usage'

    def allowed(self, context):
        return (super().allowed(context)
                and usage_policy.sees_vo_usage(context['request']))
