"""The models that moved to accounts, uploads and exports leave catalog's state; their tables stay as they
are (each new model names its table), and the dataset's team points at accounts.Team, the same table."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_models_from_catalog'),
        ('catalog', '0013_one_vocabulary'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(
                model_name='membership',
                name='team',
            ),
            migrations.RemoveField(
                model_name='membership',
                name='user',
            ),
            migrations.RemoveField(
                model_name='team',
                name='members',
            ),
            migrations.RemoveField(
                model_name='selection',
                name='created_by',
            ),
            migrations.RemoveField(
                model_name='selection',
                name='dataset',
            ),
            migrations.AlterField(
                model_name='dataset',
                name='team',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='datasets', to='accounts.team'),
            ),
            migrations.RemoveField(
                model_name='upload',
                name='dataset',
            ),
            migrations.RemoveField(
                model_name='upload',
                name='duplicate_of',
            ),
            migrations.RemoveField(
                model_name='upload',
                name='user',
            ),
            migrations.RemoveField(
                model_name='upload',
                name='video',
            ),
            migrations.RemoveField(
                model_name='uploadrefusal',
                name='user',
            ),
            migrations.DeleteModel(
                name='ApiToken',
            ),
            migrations.DeleteModel(
                name='Membership',
            ),
            migrations.DeleteModel(
                name='Selection',
            ),
            migrations.DeleteModel(
                name='Team',
            ),
            migrations.DeleteModel(
                name='Upload',
            ),
            migrations.DeleteModel(
                name='UploadRefusal',
            ),
        ]),
    ]
