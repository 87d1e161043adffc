"""Photographs and other pictures: finding labelled images in a folder (class folders, a file-name
regex, the Pets rule or a CSV), and fastai DataLoaders over them (``data``)."""
