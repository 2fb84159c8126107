"""Extensions, created unbound and bound to the app in `create_app`."""
from flask_babel import Babel
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Sessions live for one request or socket event; reloading every object after
# each commit would only cost queries on the vote path.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
socketio = SocketIO()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
