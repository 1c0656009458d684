# Project > Compute > Grid Usage: wall and CPU hours of the user's VO, for
# VO managers (and admins), as the usage API's policy decides.
PANEL = 'vo_usage'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'compute'
ADD_PANEL = ('stratuslab_plugins.dashboard.content.vo_usage.panel.'
             'VOUsage')
