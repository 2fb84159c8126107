"""Extensions, created unbound and bound to the app in `create_app`."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints: SQLite's batch migrations can only drop or alter what has a name.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


# Sessions live for one request or socket event; reloading every object after
# each commit would only cost queries on the vote path.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
# Batch mode: SQLite cannot ALTER most things, so migrations copy the table instead.
migrate = Migrate(render_as_batch=True, compare_type=True)
socketio = SocketIO()
csrf = CSRFProtect()
# Limits are declared on the routes (see limits.py); storage from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)
login_manager = LoginManager()
babel = Babel()
