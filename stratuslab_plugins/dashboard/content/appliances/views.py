"""Project > Compute > Appliances: what the sync offers this project's VO.

Below, for admins only, the appliances the sync retired (any VO): when
and why, and when the sync will delete them.
"""

from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import messages
from horizon import tables as horizon_tables

from stratuslab_plugins.dashboard import api
from stratuslab_plugins.dashboard.content.appliances import appliance_rows
from stratuslab_plugins.dashboard.content.appliances import tables
from stratuslab_plugins.dashboard import settings


class IndexView(horizon_tables.MultiTableView):
    table_classes = (tables.AppliancesTable, tables.RetiredAppliancesTable)
    template_name = 'project/appliances/index.html'
    page_title = _('Appliances')

    def get_appliances_data(self):
        vo = None
        try:
            vo = api.project_vo(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to read the project\'s VO.'))
        self.vo = vo
        if vo is None:
            messages.warning(self.request, _(
                'This project has no VO, so no appliance is offered to it. '
                'A site administrator sets it with: openstack project set '
                '--property %s=<VO> <project>.')
                % settings.get('STRATUSLAB_VO_PROJECT_PROPERTY'))
            return []
        try:
            images = api.sync_images(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the appliances.'))
            return []
        return appliance_rows.rows_for(images, vo)

    def get_retired_data(self):
        # Horizon asks every table for its data, even one the user may
        # not see: do not list other projects' hidden images for nothing.
        if not self.request.user.has_perms(
                tables.RetiredAppliancesTable._meta.permissions):
            return []
        try:
            images = api.retired_images(self.request)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to retrieve the retired appliances.'))
            return []
        return appliance_rows.retired_rows(images)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['vo'] = getattr(self, 'vo', None)
        context['tag'] = settings.get('STRATUSLAB_APPLIANCE_TAG')
        return context
