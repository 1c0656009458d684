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
from stratuslab_plugins.dashboard import failures
from stratuslab_plugins.dashboard import settings


class IndexView(horizon_tables.MultiTableView):
    table_classes = (tables.AppliancesTable, tables.RetiredAppliancesTable)
    template_name = 'project/appliances/index.html'
    page_title = _('Appliances')

    def _explain_empty(self, table, reason):
        self.get_tables()[table].empty_reason = reason

    def get_appliances_data(self):
        self.vo = None
        try:
            self.vo = api.project_vo(self.request)
        except Exception as exc:
            reason = failures.describe('Keystone', exc)
            exceptions.handle(self.request, reason)
            self._explain_empty('appliances', _(
                'The project\'s VO cannot be read, so the appliances '
                'offered to it are unknown: %s') % reason)
            return []
        if self.vo is None:
            messages.warning(self.request, _(
                'This project has no VO, so no appliance is offered to it. '
                'A site administrator sets it with: openstack project set '
                '--property %s=<VO> <project>.')
                % settings.get('STRATUSLAB_VO_PROJECT_PROPERTY'))
            self._explain_empty('appliances', _(
                'This project has no VO: no appliance is offered to it.'))
            return []
        try:
            images = api.sync_images(self.request)
        except Exception as exc:
            reason = failures.describe('Glance', exc)
            exceptions.handle(self.request, reason)
            self._explain_empty('appliances', _(
                'The appliances cannot be listed: %s') % reason)
            return []
        return appliance_rows.rows_for(images, self.vo)

    def get_retired_data(self):
        # Horizon asks every table for its data, even one the user may
        # not see: do not list other projects' hidden images for nothing.
        if not self.request.user.has_perms(
                tables.RetiredAppliancesTable._meta.permissions):
            return []
        try:
            images = api.retired_images(self.request)
        except Exception as exc:
            reason = failures.describe('Glance', exc)
            exceptions.handle(self.request, reason)
            self._explain_empty('retired', _(
                'The retired appliances cannot be listed: %s') % reason)
            return []
        return appliance_rows.retired_rows(images)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['vo'] = getattr(self, 'vo', None)
        context['tag'] = settings.get('STRATUSLAB_APPLIANCE_TAG')
        return context
