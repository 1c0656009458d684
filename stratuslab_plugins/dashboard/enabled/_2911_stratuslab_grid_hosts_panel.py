# Admin > Grid > Hosts: hosts with their grid aggregate metadata.
PANEL = 'grid_hosts'
PANEL_DASHBOARD = 'admin'
PANEL_GROUP = 'grid'
ADD_PANEL = ('stratuslab_plugins.dashboard.content.grid_hosts.panel.'
             'GridHosts')
