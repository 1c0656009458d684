# Admin > Grid: the grid site's own panels.
PANEL_GROUP = 'grid'
PANEL_GROUP_NAME = 'Grid'
PANEL_GROUP_DASHBOARD = 'admin'
