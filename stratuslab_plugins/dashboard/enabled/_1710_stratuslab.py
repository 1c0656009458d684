# The stratuslab plugin's Django app (its templates); the panel files
# below need it. Enable this file whichever panels you enable.
FEATURE = 'stratuslab'
ADD_INSTALLED_APPS = ['stratuslab_plugins.dashboard']
