"""kubectl's describe pages, one module per family of kinds.

``pages.describe_object`` picks the page of an object's kind from ``pages.PAGES``
(the ``PAGES`` tables of ``pods``, ``workloads``, ``services``, ``config`` and
``nodes``); any other kind gets ``generic``'s page, which prints every field.
``helpers`` holds what the pages share: the ``PrefixWriter`` and kubectl's blocks
(labels, annotations, tolerations, selectors, events). A new page is a function in
its family's module (or a new module) and one line in that module's ``PAGES``.
"""
