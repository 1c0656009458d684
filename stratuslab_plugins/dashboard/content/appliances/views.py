from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import messages
from horizon import tables as horizon_tables

from stratuslab_plugins.dashboard import api
from stratuslab_plugins.dashboard.content.appliances import appliance_rows
from stratuslab_plugins.dashboard.content.appliances import tables
from stratuslab_plugins.dashboard import settings


class IndexView(horizon_tables.DataTableView):
    table_class = tables.AppliancesTable
    template_name = 'project/appliances/index.html'
    page_title = _('Appliances')

    def get_data(self):
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['vo'] = getattr(self, 'vo', None)
        context['tag'] = settings.get('STRATUSLAB_APPLIANCE_TAG')
        return context
