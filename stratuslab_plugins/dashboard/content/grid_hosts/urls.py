from django.urls import re_path

from stratuslab_plugins.dashboard.content.grid_hosts import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
]
