"""A zip of stored files made while it is sent: the standard library's zipfile writing to a
stream it cannot seek (it then writes each entry's sizes after its data), handed on in chunks."""

import zipfile

from django.core.files.storage import default_storage

CHUNK = 1 << 20


class _Pipe:
    """What zipfile writes to: the bytes wait here until the generator takes them."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def zip_stream(files, prefix: str = ""):
    """Bytes of a zip of the stored `files` (objects with .name and .storage_name), under
    `prefix/`; a file no longer stored is left out."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            if not default_storage.exists(file.storage_name):
                continue
            info = zipfile.ZipInfo(f"{prefix}/{file.name}" if prefix else file.name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with (
                default_storage.open(file.storage_name) as source,
                archive.open(info, "w", force_zip64=True) as target,
            ):
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    if data := pipe.take():
                        yield data
            if data := pipe.take():
                yield data
    if data := pipe.take():
        yield data
