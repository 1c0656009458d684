# Admin > Grid > Usage: wall and CPU hours per VO, from the usage API.
PANEL = 'grid_usage'
PANEL_DASHBOARD = 'admin'
PANEL_GROUP = 'grid'
ADD_PANEL = ('stratuslab_plugins.dashboard.content.grid_usage.panel.'
             'GridUsage')
