"""An RSS feed and an XML catalogue, served as XML and turned into HTML pages by XSLT.

See :mod:`examples.feed.app`.
"""
