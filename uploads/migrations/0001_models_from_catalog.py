"""Uploads and upload refusals, moved from catalog (#23): the state only; the tables keep their names and
rows (db_table)."""
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('catalog', '0014_models_moved_to_their_apps'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Upload',
                fields=[
                    ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                    ('filename', models.CharField(max_length=255)),
                    ('length', models.BigIntegerField()),
                    ('offset', models.BigIntegerField(default=0)),
                    ('params', models.JSONField(blank=True, default=dict)),
                    ('sha256', models.CharField(blank=True, max_length=64)),
                    ('error', models.TextField(blank=True)),
                    ('created', models.DateTimeField(auto_now_add=True)),
                    ('touched', models.DateTimeField(default=django.utils.timezone.now)),
                    ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='uploads', to='catalog.dataset')),
                    ('duplicate_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='catalog.video')),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ('video', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='catalog.video')),
                ],
                options={
                    'db_table': 'catalog_upload',
                },
            ),
            migrations.CreateModel(
                name='UploadRefusal',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('created', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'catalog_uploadrefusal',
                },
            ),
        ]),
    ]
