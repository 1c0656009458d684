from django.urls import re_path

from stratuslab_plugins.dashboard.content.grid_usage import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
    re_path(r'^csv/$', views.CsvView.as_view(), name='csv'),
]
