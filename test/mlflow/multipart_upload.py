# A large artifact through MLflow's proxied multipart upload (the client decides from its environment:
# MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD, MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE, ..._CHUNK_SIZE),
# downloaded back; prints the SHA-256 of both.
import hashlib, os, tempfile
import mlflow

d = tempfile.mkdtemp()
src = os.path.join(d, "weights.bin")
with open(src, "wb") as f:
    f.write(os.urandom(int(os.environ["SIZE"])))
with mlflow.start_run() as run:
    mlflow.log_artifact(src, artifact_path="big")
back = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="big/weights.bin", dst_path=os.path.join(d, "back"))
digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
print("sent", digest(src))
print("got", digest(back))
