# Project > Compute > Appliances: the endorsed appliances the sync put in
# Glance for this project's VO.
PANEL = 'appliances'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'compute'
ADD_PANEL = ('stratuslab_plugins.dashboard.content.appliances.panel.'
             'Appliances')
